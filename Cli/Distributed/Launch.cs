using System.Globalization;

namespace JpegLm.Cli.Distributed;

/// <summary>
/// What the launcher told this process through its environment: which launcher, this process's rank among how
/// many, and its rank on this node (which picks the GPU).
/// </summary>
/// <param name="Launcher">The launcher's name, for messages.</param>
/// <param name="Rank">This process's rank in the job.</param>
/// <param name="Size">Processes in the job (0 when the launcher does not say; MPI then tells).</param>
/// <param name="LocalRank">This process's rank among those on its node.</param>
public readonly record struct LaunchInfo(string Launcher, int Rank, int Size, int LocalRank)
{
    /// <summary>
    /// The launch this process is part of, or null for a plain start: Open MPI's <c>mpirun</c> sets
    /// <c>OMPI_COMM_WORLD_SIZE</c>/<c>_RANK</c>/<c>_LOCAL_RANK</c>; PMIx launchers (Slurm's <c>srun --mpi=pmix</c>)
    /// <c>PMIX_RANK</c>; MPICH's Hydra and PMI-2 <c>PMI_SIZE</c>/<c>PMI_RANK</c>. Only then is an MPI library loaded.
    /// </summary>
    public static LaunchInfo? Detect(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        int? Get(string name) => int.TryParse(environment(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0 ? v : null;
        int local = Get("OMPI_COMM_WORLD_LOCAL_RANK") ?? Get("MPI_LOCALRANKID") ?? Get("SLURM_LOCALID") ?? 0;
        if (Get("OMPI_COMM_WORLD_SIZE") is int size && Get("OMPI_COMM_WORLD_RANK") is int rank)
        {
            return new LaunchInfo("Open MPI mpirun", rank, size, local);
        }

        if (Get("PMIX_RANK") is int pmixRank)
        {
            return new LaunchInfo("PMIx", pmixRank, Get("PMIX_SIZE") ?? Get("SLURM_NTASKS") ?? 0, local);
        }

        if (Get("PMI_SIZE") is int pmiSize && Get("PMI_RANK") is int pmiRank)
        {
            return new LaunchInfo("PMI", pmiRank, pmiSize, local);
        }

        return null;
    }

    /// <summary><see cref="Detect(Func{string, string?})"/> over this process's environment.</summary>
    public static LaunchInfo? Detect() => Detect(Environment.GetEnvironmentVariable);
}
