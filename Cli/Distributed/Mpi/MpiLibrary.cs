using System.Runtime.InteropServices;
using System.Text;
using JpegLm.Cuda.Interop;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Distributed.Mpi;

/// <summary>
/// The dozen functions of Open MPI's C API that training needs, bound through function pointers from the loaded
/// <c>libmpi.so.40</c> (the way <c>JpegLm.Cuda</c> binds the driver and cuBLAS). Open MPI's handles are pointers to
/// exported globals (<c>MPI_COMM_WORLD</c> is <c>&amp;ompi_mpi_comm_world</c>, <c>MPI_FLOAT</c> is
/// <c>&amp;ompi_mpi_float</c>), so they are the addresses of those exports; MPICH's integer handles are a different
/// ABI, and a library without <c>ompi_mpi_comm_world</c> is refused with that reason.
/// </summary>
/// <remarks>
/// Why not the MPI.NET package (1.4.0 is the one NuGet serves): it is compiled against Microsoft's <c>msmpi.dll</c>
/// and MS-MPI's integer handles ("for Windows only", say its release notes); on Linux it would have to be rebuilt
/// from source against one MPI's headers. Our binding is a page of function pointers, loads only when a launcher
/// started the process, trims cleanly, and its argument passing is unit-tested with a fake export table.
/// </remarks>
public sealed unsafe class MpiLibrary
{
    /// <summary>The environment variable that names the MPI library to load (a path), instead of the soname.</summary>
    public const string OverrideVariable = "JPEGLM_MPI";

    /// <summary>Open MPI's soname (the same from Open MPI 3 to 5).</summary>
    public const string Soname = "libmpi.so.40";

    /// <summary><c>MPI_SUCCESS</c>.</summary>
    public const int Success = 0;

    /// <summary><c>MPI_THREAD_MULTIPLE</c>: a watchdog thread may call <c>MPI_Abort</c> while the trainer waits in a collective.</summary>
    public const int ThreadMultiple = 3;

    /// <summary><c>MPI_IN_PLACE</c> in Open MPI's <c>mpi.h</c>: <c>(void *) 1</c>.</summary>
    public static readonly nint InPlace = 1;

    private const int MaxString = 256; // MPI_MAX_ERROR_STRING and MPI_MAX_LIBRARY_VERSION_STRING in Open MPI

    private readonly delegate* unmanaged<int*, int> _initialized;
    private readonly delegate* unmanaged<int*, int> _finalized;
    private readonly delegate* unmanaged<int*, nint*, int, int*, int> _initThread;
    private readonly delegate* unmanaged<nint, int*, int> _commRank;
    private readonly delegate* unmanaged<nint, int*, int> _commSize;
    private readonly delegate* unmanaged<nint, nint, int> _commSetErrhandler;
    private readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> _allreduce;
    private readonly delegate* unmanaged<void*, int, nint, int, nint, int> _bcast;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<nint, int, int> _abort;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<int, byte*, int*, int> _errorString;
    private readonly delegate* unmanaged<byte*, int*, int> _libraryVersion;

    /// <summary>Binds every function and handle through <paramref name="export"/> (a symbol name to its address; 0 when absent).</summary>
    internal MpiLibrary(string path, Func<string, nint> export)
    {
        Path = path;
        nint Need(string name)
        {
            nint address = export(name);
            return address != 0 ? address : throw new CollectiveException($"{path} has no {name}: JpegLm binds Open MPI's ABI (libmpi.so.40 of Open MPI 3 to 5)");
        }

        // The handles first: a library without them is not Open MPI, whatever its functions.
        CommWorld = Need("ompi_mpi_comm_world");
        Float = Need("ompi_mpi_float");
        Double = Need("ompi_mpi_double");
        Byte = Need("ompi_mpi_byte");
        Sum = Need("ompi_mpi_op_sum");
        ErrorsReturn = Need("ompi_mpi_errors_return");
        _initialized = (delegate* unmanaged<int*, int>)Need("MPI_Initialized");
        _finalized = (delegate* unmanaged<int*, int>)Need("MPI_Finalized");
        _initThread = (delegate* unmanaged<int*, nint*, int, int*, int>)Need("MPI_Init_thread");
        _commRank = (delegate* unmanaged<nint, int*, int>)Need("MPI_Comm_rank");
        _commSize = (delegate* unmanaged<nint, int*, int>)Need("MPI_Comm_size");
        _commSetErrhandler = (delegate* unmanaged<nint, nint, int>)Need("MPI_Comm_set_errhandler");
        _allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Need("MPI_Allreduce");
        _bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Need("MPI_Bcast");
        _barrier = (delegate* unmanaged<nint, int>)Need("MPI_Barrier");
        _abort = (delegate* unmanaged<nint, int, int>)Need("MPI_Abort");
        _finalize = (delegate* unmanaged<int>)Need("MPI_Finalize");
        _errorString = (delegate* unmanaged<int, byte*, int*, int>)Need("MPI_Error_string");
        _libraryVersion = (delegate* unmanaged<byte*, int*, int>)Need("MPI_Get_library_version");
    }

    /// <summary>The soname or path the library was loaded from.</summary>
    public string Path { get; }

    /// <summary><c>MPI_COMM_WORLD</c>.</summary>
    public nint CommWorld { get; }

    /// <summary><c>MPI_FLOAT</c>.</summary>
    public nint Float { get; }

    /// <summary><c>MPI_DOUBLE</c>.</summary>
    public nint Double { get; }

    /// <summary><c>MPI_BYTE</c>.</summary>
    public nint Byte { get; }

    /// <summary><c>MPI_SUM</c>.</summary>
    public nint Sum { get; }

    /// <summary><c>MPI_ERRORS_RETURN</c>: failures come back as return codes instead of aborting the job.</summary>
    public nint ErrorsReturn { get; }

    /// <summary>
    /// Loads Open MPI: the path in <see cref="OverrideVariable"/> alone when set, else <see cref="Soname"/> through the
    /// dynamic loader. Throws a <see cref="CollectiveException"/> saying what was tried.
    /// </summary>
    public static MpiLibrary Load(ILibraryProbe? probe = null)
    {
        probe ??= SystemLibraryProbe.Instance;
        string? overridden = probe.Environment(OverrideVariable);
        string candidate = string.IsNullOrWhiteSpace(overridden) ? Soname : overridden.Trim();
        nint handle = probe.TryLoad(candidate, out string? error);
        if (handle == 0)
        {
            throw new CollectiveException($"cannot load MPI ({candidate}): {error}; install Open MPI (Debian: openmpi-bin) or set {OverrideVariable}");
        }

        return new MpiLibrary(candidate, name => NativeLibrary.TryGetExport(handle, name, out nint address) ? address : 0);
    }

    /// <summary><c>MPI_Initialized</c>.</summary>
    public int Initialized(out bool initialized)
    {
        int flag = 0;
        int rc = _initialized(&flag);
        initialized = flag != 0;
        return rc;
    }

    /// <summary><c>MPI_Finalized</c>.</summary>
    public int Finalized(out bool finalized)
    {
        int flag = 0;
        int rc = _finalized(&flag);
        finalized = flag != 0;
        return rc;
    }

    /// <summary><c>MPI_Init_thread(NULL, NULL, required, &amp;provided)</c> (MPI-2 allows null arguments).</summary>
    public int InitThread(int required, out int provided)
    {
        int p = 0;
        int rc = _initThread(null, null, required, &p);
        provided = p;
        return rc;
    }

    /// <summary><c>MPI_Comm_rank</c>.</summary>
    public int CommRank(nint comm, out int rank)
    {
        int r = 0;
        int rc = _commRank(comm, &r);
        rank = r;
        return rc;
    }

    /// <summary><c>MPI_Comm_size</c>.</summary>
    public int CommSize(nint comm, out int size)
    {
        int s = 0;
        int rc = _commSize(comm, &s);
        size = s;
        return rc;
    }

    /// <summary><c>MPI_Comm_set_errhandler</c>.</summary>
    public int CommSetErrhandler(nint comm, nint handler) => _commSetErrhandler(comm, handler);

    /// <summary><c>MPI_Allreduce(MPI_IN_PLACE, buffer, count, type, op, comm)</c>.</summary>
    public int AllreduceInPlace(void* buffer, int count, nint type, nint op, nint comm) => _allreduce((void*)InPlace, buffer, count, type, op, comm);

    /// <summary><c>MPI_Bcast</c>.</summary>
    public int Bcast(void* buffer, int count, nint type, int root, nint comm) => _bcast(buffer, count, type, root, comm);

    /// <summary><c>MPI_Barrier</c>.</summary>
    public int Barrier(nint comm) => _barrier(comm);

    /// <summary><c>MPI_Abort</c>: ends every process of the job (Open MPI does not return).</summary>
    public int Abort(nint comm, int code) => _abort(comm, code);

    /// <summary><c>MPI_Finalize</c>.</summary>
    public int Finalize() => _finalize();

    /// <summary>The text of an MPI error code (<c>MPI_Error_string</c>), or the number when it has none.</summary>
    public string ErrorString(int code)
    {
        byte* text = stackalloc byte[MaxString + 1];
        int length = 0;
        return _errorString(code, text, &length) == Success && length > 0
            ? Encoding.UTF8.GetString(text, Math.Min(length, MaxString))
            : $"MPI error {code}";
    }

    /// <summary><c>MPI_Get_library_version</c>'s first line, e.g. <c>Open MPI v4.1.4, …</c>.</summary>
    public string LibraryVersion()
    {
        byte* text = stackalloc byte[MaxString + 1];
        int length = 0;
        if (_libraryVersion(text, &length) != Success || length <= 0)
        {
            return "MPI";
        }

        string version = Encoding.UTF8.GetString(text, Math.Min(length, MaxString)).TrimEnd('\0');
        int cut = version.IndexOfAny([',', '\n']);
        return cut > 0 ? version[..cut] : version;
    }
}
