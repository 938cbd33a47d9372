using System.Runtime.InteropServices;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Distributed.Mpi;

/// <summary>
/// <see cref="ICollectives"/> over <c>MPI_COMM_WORLD</c>: <c>MPI_Allreduce(MPI_IN_PLACE, …, MPI_SUM)</c> on the CPU
/// backend's host buffers directly (other backends' buffers are staged through host memory), <c>MPI_Bcast</c>,
/// <c>MPI_Barrier</c>. Errors return as codes (<c>MPI_ERRORS_RETURN</c>) and become a
/// <see cref="CollectiveException"/>; a call that waits longer than the timeout aborts the job
/// (<see cref="CollectiveWatchdog"/>), so a dead rank never leaves the others waiting for ever.
/// </summary>
public sealed unsafe class MpiCollectives : ICollectives, IDisposable
{
    /// <summary>Elements per MPI call: MPI counts are <c>int</c>; 2^26 floats (256 MiB) keeps each call well inside.</summary>
    internal const int ChunkElements = 1 << 26;

    private readonly MpiLibrary _mpi;
    private readonly TextWriter _log;
    private readonly CollectiveWatchdog _watchdog;
    private float[] _staging = [];
    private bool _finished;

    private MpiCollectives(MpiLibrary mpi, int rank, int size, TimeSpan timeout, TextWriter log)
    {
        _mpi = mpi;
        Rank = rank;
        Size = size;
        _log = log;
        Name = $"mpi({mpi.LibraryVersion()}, {size} rank{(size == 1 ? "" : "s")})";
        _watchdog = new CollectiveWatchdog(timeout, message => Abort(message));
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <summary>The bound library.</summary>
    public MpiLibrary Library => _mpi;

    /// <summary>
    /// Initializes MPI (<c>MPI_THREAD_MULTIPLE</c>, so the watchdog may abort from its own thread), makes errors
    /// return as codes, and reads this process's rank and the job's size. A call that waits longer than
    /// <paramref name="timeout"/> aborts the job after writing why on <paramref name="log"/>.
    /// </summary>
    public static MpiCollectives Initialize(MpiLibrary mpi, TimeSpan timeout, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(mpi);
        ArgumentNullException.ThrowIfNull(log);
        Check(mpi, mpi.Initialized(out bool already), "MPI_Initialized", -1, 0);
        if (!already)
        {
            Check(mpi, mpi.InitThread(MpiLibrary.ThreadMultiple, out int provided), "MPI_Init_thread", -1, 0);
            if (provided < MpiLibrary.ThreadMultiple)
            {
                // Still usable: only the watchdog's abort would cross threads, and a dead rank also ends the job through the launcher.
                log.WriteLine($"note: {mpi.Path} provides thread level {provided}, not MPI_THREAD_MULTIPLE; the collective timeout may not abort cleanly");
            }
        }

        Check(mpi, mpi.CommSetErrhandler(mpi.CommWorld, mpi.ErrorsReturn), "MPI_Comm_set_errhandler", -1, 0);
        Check(mpi, mpi.CommRank(mpi.CommWorld, out int rank), "MPI_Comm_rank", -1, 0);
        Check(mpi, mpi.CommSize(mpi.CommWorld, out int size), "MPI_Comm_size", rank, 0);
        return new MpiCollectives(mpi, rank, size, timeout, log);
    }

    /// <inheritdoc/>
    public void AllReduceSum(Tensor buffer)
    {
        ForChunks(buffer, "MPI_Allreduce", (p, n) => _mpi.AllreduceInPlace((void*)p, n, _mpi.Float, _mpi.Sum, _mpi.CommWorld), upload: true);
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> values)
    {
        fixed (double* p = values)
        {
            using CollectiveWatchdog.Scope watch = _watchdog.Enter("MPI_Allreduce");
            Check(_mpi.AllreduceInPlace(p, values.Length, _mpi.Double, _mpi.Sum, _mpi.CommWorld), "MPI_Allreduce");
        }
    }

    /// <inheritdoc/>
    public void Broadcast(Tensor buffer, int root)
    {
        CheckRoot(root);
        ForChunks(buffer, "MPI_Bcast", (p, n) => _mpi.Bcast((void*)p, n, _mpi.Float, root, _mpi.CommWorld), upload: Rank != root);
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> data, int root)
    {
        CheckRoot(root);
        fixed (byte* p = data)
        {
            for (int start = 0; start < data.Length; start += ChunkElements)
            {
                int n = Math.Min(ChunkElements, data.Length - start);
                using CollectiveWatchdog.Scope watch = _watchdog.Enter("MPI_Bcast");
                Check(_mpi.Bcast(p + start, n, _mpi.Byte, root, _mpi.CommWorld), "MPI_Bcast");
            }
        }
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        using CollectiveWatchdog.Scope watch = _watchdog.Enter("MPI_Barrier");
        Check(_mpi.Barrier(_mpi.CommWorld), "MPI_Barrier");
    }

    /// <summary>
    /// Writes <paramref name="reason"/> on the log and ends every process of the job (<c>MPI_Abort</c>); for a
    /// failure one rank cannot recover from while the others would wait in their next collective.
    /// </summary>
    public void Abort(string reason, int code = 1)
    {
        _log.WriteLine($"rank {Rank} of {Size}: {reason}; aborting every rank");
        _log.Flush();
        _finished = true;
        _mpi.Abort(_mpi.CommWorld, code);
    }

    /// <summary>Finalizes MPI (after every rank is done: <c>MPI_Finalize</c> is collective).</summary>
    public void Dispose()
    {
        _watchdog.Dispose();
        if (_finished)
        {
            return;
        }

        _finished = true;
        if (_mpi.Finalized(out bool finalized) == MpiLibrary.Success && !finalized)
        {
            _mpi.Finalize();
        }
    }

    private static void Check(MpiLibrary mpi, int rc, string call, int rank, int size)
    {
        if (rc != MpiLibrary.Success)
        {
            string where = rank < 0 ? "" : $" on rank {rank}{(size > 0 ? $" of {size}" : "")}";
            throw new CollectiveException($"{call} failed{where}: {mpi.ErrorString(rc)} (MPI error {rc})");
        }
    }

    private void Check(int rc, string call)
    {
        if (rc != MpiLibrary.Success)
        {
            throw new CollectiveException($"{call} failed on rank {Rank} of {Size}: {_mpi.ErrorString(rc)} (MPI error {rc}): another rank has probably died");
        }
    }

    private void CheckRoot(int root)
    {
        if (root < 0 || root >= Size)
        {
            throw new ArgumentOutOfRangeException(nameof(root), $"root {root} outside ranks 0..{Size - 1}");
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/> over the tensor in chunks: on the CPU backend's memory in place; otherwise through
    /// a host copy (downloaded first, uploaded back when <paramref name="upload"/>).
    /// </summary>
    private void ForChunks(Tensor buffer, string name, Func<nint, int, int> call, bool upload)
    {
        IKernels owner = buffer.Buffer.Owner;
        for (long start = 0; start < buffer.Length; start += ChunkElements)
        {
            int n = (int)Math.Min(ChunkElements, buffer.Length - start);
            Tensor part = buffer.Slice(start, n);
            if (owner is CpuKernels)
            {
                fixed (float* p = CpuKernels.Span(part))
                {
                    using CollectiveWatchdog.Scope watch = _watchdog.Enter(name);
                    Check(call((nint)p, n), name);
                }

                continue;
            }

            if (_staging.Length < n)
            {
                _staging = new float[n];
            }

            Span<float> host = _staging.AsSpan(0, n);
            owner.Download(part, host);
            fixed (float* p = host)
            {
                using CollectiveWatchdog.Scope watch = _watchdog.Enter(name);
                Check(call((nint)p, n), name);
            }

            if (upload)
            {
                owner.Upload(host, part);
            }
        }
    }
}
