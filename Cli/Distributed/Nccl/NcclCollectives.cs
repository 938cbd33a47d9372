using JpegLm.Cuda.Kernels;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Distributed.Nccl;

/// <summary>
/// <see cref="ICollectives"/> for GPU ranks: the gradient sum and the weight broadcasts run as NCCL kernels on the
/// CUDA stream the backend's kernels use (so they are ordered after the backward without a host round trip), on
/// device buffers in place. The communicator is set up from a unique id that rank 0 makes and the host group
/// (MPI, or the one-rank <see cref="SingleProcess"/>) broadcasts; host-side values (losses, resume metadata) and
/// the barrier go through that host group.
/// </summary>
/// <remarks>
/// After enqueuing the sum it waits for the stream under a <see cref="CollectiveWatchdog"/> (the trainer reads the
/// gradient norm right after, so this costs nothing): a rank that stops answering makes the watchdog abort the
/// communicator (<c>ncclCommAbort</c> returns the pending kernels), and the wait ends in a
/// <see cref="CollectiveException"/> instead of hanging.
/// </remarks>
public sealed class NcclCollectives : ICollectives, IDisposable
{
    private readonly NcclLibrary _nccl;
    private readonly ICollectives _host;
    private readonly Func<Tensor, ulong> _pointer;
    private readonly nint _stream;
    private readonly Action _makeCurrent;
    private readonly Action _synchronize;
    private readonly CollectiveWatchdog _watchdog;
    private nint _comm;
    private volatile bool _aborted;

    private NcclCollectives(NcclLibrary nccl, ICollectives host, nint comm, Func<Tensor, ulong> pointer, nint stream, Action makeCurrent, Action synchronize,
        TimeSpan timeout, TextWriter log)
    {
        _nccl = nccl;
        _host = host;
        _comm = comm;
        _pointer = pointer;
        _stream = stream;
        _makeCurrent = makeCurrent;
        _synchronize = synchronize;
        Name = $"nccl({nccl.Version()}, {host.Size} rank{(host.Size == 1 ? "" : "s")}, bootstrap {host.Name})";
        _watchdog = new CollectiveWatchdog(timeout, message =>
        {
            log.WriteLine($"rank {Rank} of {Size}: {message}; aborting the NCCL communicator");
            _aborted = true;
            _nccl.CommAbort(_comm);
        });
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public int Rank => _host.Rank;

    /// <inheritdoc/>
    public int Size => _host.Size;

    /// <summary>Sets up the communicator of the ranks of <paramref name="host"/>, one per GPU, on <paramref name="kernels"/>' stream.</summary>
    public static NcclCollectives Create(NcclLibrary nccl, CudaKernels kernels, ICollectives host, TimeSpan timeout, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        return Create(nccl, host, kernels.Ptr, kernels.Device.Stream, kernels.Device.MakeCurrent, kernels.Synchronize, timeout, log);
    }

    /// <summary>The device-independent part of <see cref="Create(NcclLibrary, CudaKernels, ICollectives, TimeSpan, TextWriter)"/> (tests pass fakes).</summary>
    internal static NcclCollectives Create(NcclLibrary nccl, ICollectives host, Func<Tensor, ulong> pointer, nint stream, Action makeCurrent, Action synchronize,
        TimeSpan timeout, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(nccl);
        ArgumentNullException.ThrowIfNull(host);
        NcclUniqueId id = host.Rank == 0 ? nccl.GetUniqueId() : default;
        host.Broadcast(id.AsSpan(), 0);
        makeCurrent();
        nint comm = nccl.CommInitRank(host.Size, id, host.Rank);
        return new NcclCollectives(nccl, host, comm, pointer, stream, makeCurrent, synchronize, timeout, log);
    }

    /// <inheritdoc/>
    public void AllReduceSum(Tensor buffer)
    {
        _makeCurrent();
        _nccl.AllReduceSumInPlace(_pointer(buffer), buffer.Length, Live(), _stream);
        Wait("ncclAllReduce");
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> values) => _host.AllReduceSum(values);

    /// <inheritdoc/>
    public void Broadcast(Tensor buffer, int root)
    {
        if (root < 0 || root >= Size)
        {
            throw new ArgumentOutOfRangeException(nameof(root), $"root {root} outside ranks 0..{Size - 1}");
        }

        _makeCurrent();
        _nccl.BroadcastInPlace(_pointer(buffer), buffer.Length, root, Live(), _stream);
        Wait("ncclBroadcast");
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> data, int root) => _host.Broadcast(data, root);

    /// <inheritdoc/>
    public void Barrier()
    {
        _synchronize();
        _host.Barrier();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _watchdog.Dispose();
        if (_comm != 0 && !_aborted)
        {
            _nccl.CommDestroy(_comm);
        }

        _comm = 0;
    }

    private nint Live() => _aborted || _comm == 0 ? throw new CollectiveException($"rank {Rank} of {Size}: the NCCL communicator was aborted") : _comm;

    /// <summary>Waits for the stream under the watchdog, then surfaces an error a peer raised asynchronously.</summary>
    private void Wait(string call)
    {
        try
        {
            using (_watchdog.Enter(call))
            {
                _synchronize();
            }
        }
        catch (Exception e) when (_aborted)
        {
            throw new CollectiveException($"{call} on rank {Rank} of {Size} did not finish: a rank has died or hangs", e);
        }

        if (_aborted)
        {
            throw new CollectiveException($"{call} on rank {Rank} of {Size} did not finish: a rank has died or hangs");
        }

        int async = _nccl.CommGetAsyncError(_comm);
        if (async != NcclLibrary.Success)
        {
            throw new CollectiveException($"{call} on rank {Rank} of {Size}: {NcclLibrary.ResultName(async)} ({_nccl.ErrorString(async)}), raised while it ran");
        }
    }
}
