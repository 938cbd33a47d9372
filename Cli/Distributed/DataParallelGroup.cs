using JpegLm.Cuda.Kernels;
using JpegLm.Cli.Distributed.Mpi;
using JpegLm.Cli.Distributed.Nccl;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Distributed;

/// <summary>
/// The ranks of one data-parallel training job as this process sees them: a <see cref="SingleProcess"/> when no
/// launcher started it (nothing native is loaded), otherwise MPI over the launched ranks; once the backend is open,
/// GPU ranks switch their tensor collectives to NCCL on the backend's stream, bootstrapped over MPI.
/// </summary>
public sealed class DataParallelGroup : IDisposable
{
    private readonly MpiCollectives? _mpi;
    private NcclCollectives? _nccl;

    private DataParallelGroup(LaunchInfo? launch, MpiCollectives? mpi, TimeSpan timeout)
    {
        Launch = launch;
        _mpi = mpi;
        Timeout = timeout;
        Host = mpi ?? (ICollectives)SingleProcess.Instance;
    }

    /// <summary>What the launcher said, or null for a plain start.</summary>
    public LaunchInfo? Launch { get; }

    /// <summary>How long one collective call may wait before the job is aborted.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The host-side group: MPI under a launcher, else the single process.</summary>
    public ICollectives Host { get; }

    /// <summary>The group the trainer uses: NCCL for GPU ranks after <see cref="AttachBackend"/>, else <see cref="Host"/>.</summary>
    public ICollectives Collectives => (ICollectives?)_nccl ?? Host;

    /// <summary>This process's rank on its node (picks the GPU).</summary>
    public int LocalRank => Launch?.LocalRank ?? 0;

    /// <summary>
    /// Opens the group of this process: MPI when <paramref name="launch"/> says a launcher started it (loading
    /// <c>libmpi.so.40</c> then), else the single process. Collective calls that wait longer than
    /// <paramref name="timeout"/> abort the job after saying why on <paramref name="log"/>.
    /// </summary>
    public static DataParallelGroup Open(LaunchInfo? launch, TimeSpan timeout, TextWriter log)
    {
        if (launch == null)
        {
            return new DataParallelGroup(null, null, timeout);
        }

        MpiCollectives mpi = MpiCollectives.Initialize(MpiLibrary.Load(), timeout, log);
        return new DataParallelGroup(launch, mpi, timeout);
    }

    /// <summary>
    /// Chooses the tensor collectives for the opened backend: NCCL over the MPI group for CUDA ranks when there is
    /// more than one (<c>JPEGLM_GPU_COLLECTIVES=mpi</c> stages through host memory over MPI instead), else the host group.
    /// </summary>
    public void AttachBackend(IKernels kernels, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        if (_nccl == null && kernels is CudaKernels cuda && Host.Size > 1 && Environment.GetEnvironmentVariable("JPEGLM_GPU_COLLECTIVES") != "mpi")
        {
            _nccl = NcclCollectives.Create(NcclLibrary.Load(), cuda, Host, Timeout, log);
        }
    }

    /// <summary>
    /// Ends every rank after saying why (for a failure on one rank that the others would otherwise wait on); a
    /// no-op for a single process, where the caller reports the error itself.
    /// </summary>
    public void Abort(string reason)
    {
        _mpi?.Abort(reason);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _nccl?.Dispose();
        _mpi?.Dispose();
    }
}
