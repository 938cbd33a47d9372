using System.Runtime.InteropServices;
using JpegLm.Cuda.Interop;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Distributed.Nccl;

/// <summary><c>ncclUniqueId</c>: 128 opaque bytes that rank 0 makes and every rank passes (by value) to <c>ncclCommInitRank</c>.</summary>
[StructLayout(LayoutKind.Sequential, Size = Bytes)]
public unsafe struct NcclUniqueId
{
    /// <summary><c>NCCL_UNIQUE_ID_BYTES</c>.</summary>
    public const int Bytes = 128;

    private fixed byte _internal[Bytes];

    /// <summary>The id's bytes (to send to the other ranks).</summary>
    public Span<byte> AsSpan() => MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref this, 1));
}

/// <summary>
/// The NCCL functions data-parallel training needs, bound through function pointers from <c>libnccl.so.2</c> (the
/// way <c>JpegLm.Cuda</c> binds cuBLAS). The library is found like the CUDA toolkit libraries: <c>JPEGLM_NCCL</c>
/// alone when set, else the soname, else the CUDA toolkit folders and pip's <c>nvidia/*/lib</c> folders (PyTorch's
/// <c>nvidia-nccl</c> wheel puts it in <c>nvidia/nccl/lib</c>).
/// </summary>
public sealed unsafe class NcclLibrary
{
    /// <summary>The environment variable that names the library to load (a path).</summary>
    public const string OverrideVariable = "JPEGLM_NCCL";

    /// <summary>NCCL's soname.</summary>
    public const string Soname = "libnccl.so.2";

    /// <summary><c>ncclSuccess</c>.</summary>
    public const int Success = 0;

    /// <summary><c>ncclFloat32</c> (ncclDataType_t).</summary>
    public const int Float32 = 7;

    /// <summary><c>ncclSum</c> (ncclRedOp_t).</summary>
    public const int Sum = 0;

    private readonly delegate* unmanaged<int*, int> _getVersion;
    private readonly delegate* unmanaged<NcclUniqueId*, int> _getUniqueId;
    private readonly delegate* unmanaged<nint*, int, NcclUniqueId, int, int> _commInitRank;
    private readonly delegate* unmanaged<void*, void*, nuint, int, int, nint, nint, int> _allReduce;
    private readonly delegate* unmanaged<void*, void*, nuint, int, int, nint, nint, int> _broadcast;
    private readonly delegate* unmanaged<nint, int> _commDestroy;
    private readonly delegate* unmanaged<nint, int> _commAbort;
    private readonly delegate* unmanaged<nint, int*, int> _commGetAsyncError;
    private readonly delegate* unmanaged<int, byte*> _getErrorString;

    /// <summary>Binds every function through <paramref name="export"/> (a symbol name to its address; 0 when absent).</summary>
    internal NcclLibrary(string path, Func<string, nint> export)
    {
        Path = path;
        nint Need(string name)
        {
            nint address = export(name);
            return address != 0 ? address : throw new CollectiveException($"{path} has no {name}: not an NCCL 2 library");
        }

        _getVersion = (delegate* unmanaged<int*, int>)Need("ncclGetVersion");
        _getUniqueId = (delegate* unmanaged<NcclUniqueId*, int>)Need("ncclGetUniqueId");
        _commInitRank = (delegate* unmanaged<nint*, int, NcclUniqueId, int, int>)Need("ncclCommInitRank");
        _allReduce = (delegate* unmanaged<void*, void*, nuint, int, int, nint, nint, int>)Need("ncclAllReduce");
        _broadcast = (delegate* unmanaged<void*, void*, nuint, int, int, nint, nint, int>)Need("ncclBroadcast");
        _commDestroy = (delegate* unmanaged<nint, int>)Need("ncclCommDestroy");
        _commAbort = (delegate* unmanaged<nint, int>)Need("ncclCommAbort");
        _commGetAsyncError = (delegate* unmanaged<nint, int*, int>)Need("ncclCommGetAsyncError");
        _getErrorString = (delegate* unmanaged<int, byte*>)Need("ncclGetErrorString");
    }

    /// <summary>The soname or path the library was loaded from.</summary>
    public string Path { get; }

    /// <summary>Candidates in search order (without the override): the soname, then existing files in the CUDA and pip folders.</summary>
    public static IReadOnlyList<string> Candidates(ILibraryProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var result = new List<string> { Soname };
        // The toolkit libraries' folders: /usr/local/cuda*/lib64, targets/…/lib, and pip's nvidia/*/lib.
        foreach (string dir in LibraryResolver.SearchDirectories(CudaLibrary.Cublas, probe))
        {
            string path = dir + "/" + Soname;
            if (!result.Contains(path) && probe.FileExists(path))
            {
                result.Add(path);
            }
        }

        return result;
    }

    /// <summary>Loads NCCL from the first candidate that loads; throws a <see cref="CollectiveException"/> listing the attempts.</summary>
    public static NcclLibrary Load(ILibraryProbe? probe = null)
    {
        probe ??= SystemLibraryProbe.Instance;
        string? overridden = probe.Environment(OverrideVariable);
        IReadOnlyList<string> candidates = string.IsNullOrWhiteSpace(overridden) ? Candidates(probe) : [overridden.Trim()];
        var errors = new List<string>();
        foreach (string candidate in candidates)
        {
            nint handle = probe.TryLoad(candidate, out string? error);
            if (handle != 0)
            {
                return new NcclLibrary(candidate, name => NativeLibrary.TryGetExport(handle, name, out nint address) ? address : 0);
            }

            errors.Add($"{candidate}: {error}");
        }

        throw new CollectiveException($"cannot load NCCL ({string.Join("; ", errors)}); install it (pip's nvidia-nccl-cu12, or the CUDA repository's libnccl2) or set {OverrideVariable}");
    }

    /// <summary>The symbolic name of an ncclResult_t (nccl.h).</summary>
    public static string ResultName(int result) => result switch
    {
        0 => "ncclSuccess",
        1 => "ncclUnhandledCudaError",
        2 => "ncclSystemError",
        3 => "ncclInternalError",
        4 => "ncclInvalidArgument",
        5 => "ncclInvalidUsage",
        6 => "ncclRemoteError",
        7 => "ncclInProgress",
        _ => $"ncclResult {result}",
    };

    /// <summary><c>ncclGetVersion</c> as <c>major.minor.patch</c> (NCCL encodes it as major·10000 + minor·100 + patch since 2.9).</summary>
    public string Version()
    {
        int code = 0;
        Check(_getVersion(&code), "ncclGetVersion");
        return code >= 10000 ? $"{code / 10000}.{code / 100 % 100}.{code % 100}" : $"{code / 1000}.{code / 100 % 10}.{code % 100}";
    }

    /// <summary><c>ncclGetUniqueId</c>.</summary>
    public NcclUniqueId GetUniqueId()
    {
        NcclUniqueId id = default;
        Check(_getUniqueId(&id), "ncclGetUniqueId");
        return id;
    }

    /// <summary><c>ncclCommInitRank(&amp;comm, ranks, id, rank)</c>: collective over the ranks sharing <paramref name="id"/>.</summary>
    public nint CommInitRank(int ranks, NcclUniqueId id, int rank)
    {
        nint comm = 0;
        Check(_commInitRank(&comm, ranks, id, rank), "ncclCommInitRank");
        return comm;
    }

    /// <summary><c>ncclAllReduce(buffer, buffer, count, ncclFloat32, ncclSum, comm, stream)</c>: in place, enqueued on the stream.</summary>
    public void AllReduceSumInPlace(ulong buffer, long count, nint comm, nint stream)
        => Check(_allReduce((void*)buffer, (void*)buffer, (nuint)count, Float32, Sum, comm, stream), "ncclAllReduce");

    /// <summary><c>ncclBroadcast(buffer, buffer, count, ncclFloat32, root, comm, stream)</c>: in place, enqueued on the stream.</summary>
    public void BroadcastInPlace(ulong buffer, long count, int root, nint comm, nint stream)
        => Check(_broadcast((void*)buffer, (void*)buffer, (nuint)count, Float32, root, comm, stream), "ncclBroadcast");

    /// <summary><c>ncclCommGetAsyncError</c>: an error a peer or the network raised while kernels were running.</summary>
    public int CommGetAsyncError(nint comm)
    {
        int async = 0;
        Check(_commGetAsyncError(comm, &async), "ncclCommGetAsyncError");
        return async;
    }

    /// <summary><c>ncclCommAbort</c>: frees the communicator and makes its pending kernels return (a peer is gone).</summary>
    public int CommAbort(nint comm) => _commAbort(comm);

    /// <summary><c>ncclCommDestroy</c>.</summary>
    public int CommDestroy(nint comm) => _commDestroy(comm);

    /// <summary><c>ncclGetErrorString</c>.</summary>
    public string ErrorString(int result)
    {
        byte* text = _getErrorString(result);
        return text == null ? ResultName(result) : Marshal.PtrToStringUTF8((nint)text) ?? ResultName(result);
    }

    /// <summary>Throws a <see cref="CollectiveException"/> naming the call and the result when <paramref name="result"/> is not success.</summary>
    public void Check(int result, string call)
    {
        if (result != Success)
        {
            throw new CollectiveException($"{call} failed: {ResultName(result)} ({ErrorString(result)})");
        }
    }
}
