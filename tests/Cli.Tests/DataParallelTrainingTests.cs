using System.Diagnostics;
using JpegLm.TestSupport;
using Xunit.Abstractions;
using static JpegLm.Cli.Tests.TrainingRuns;

namespace JpegLm.Cli.Tests;

/// <summary>
/// The acceptance test of data-parallel training on the CPU: <c>mpirun -np 2 jpeglm train</c> (Open MPI, real
/// processes) against the one-process reference that computes the two ranks' gradients into separate buffers and
/// adds them in rank order (<c>--simulate-ranks 2</c>); a run stopped with SIGUSR1 and resumed must end on the same
/// bytes. And a killed rank must stop the job with a message instead of a hang. Skipped where mpirun is missing.
/// </summary>
public class DataParallelTrainingTests(ITestOutputHelper output)
{
    // OpenBLAS splits a GEMM differently with another thread count; mpirun binds each rank to one core, so the
    // reference runs with one OpenBLAS thread too (see docs/distributed.md).
    private static readonly (string, string)[] OneBlasThread = [("OPENBLAS_NUM_THREADS", "1")];

    private static string? FindMpirun() => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
        .Select(d => Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists);

    private static string[] Train(string dir, string run, int steps, params string[] more) => TrainingRuns.Train(dir, run, steps, 128, 1, more);

    private static string[] Mpirun(int ranks, string[] jpeglm) =>
        ["--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(), "-x", "OPENBLAS_NUM_THREADS=1", Dotnet, JpeglmDll, .. jpeglm];

    [SkippableFact]
    public void Two_mpi_ranks_stopped_and_resumed_end_on_the_bytes_of_the_one_process_reference()
    {
        string? mpirun = FindMpirun();
        Skip.If(mpirun == null, "mpirun is not installed (Debian: openmpi-bin): the data-parallel acceptance test needs it");
        string dir = PrepareData(TestPaths.NewTempDirectory());
        const int Steps = 12;

        using ProcessRun reference = ProcessRun.Start(Dotnet, [JpeglmDll, .. Train(dir, "reference", Steps, "--simulate-ranks", "2")], OneBlasThread);
        Assert.Equal(0, reference.Wait(TimeSpan.FromMinutes(5), output));

        // Two ranks, stopped with SIGUSR1 (mpirun forwards it) once the first checkpoint is written, then resumed.
        using ProcessRun part = ProcessRun.Start(mpirun!, Mpirun(2, Train(dir, "mpi", Steps)));
        string state = Path.Combine(dir, "mpi", "trainer_state.safetensors");
        Assert.True(SpinWait.SpinUntil(() => File.Exists(state) || part.HasExited, TimeSpan.FromMinutes(3)), "no first checkpoint");
        part.Signal(10);
        Assert.Equal(0, part.Wait(TimeSpan.FromMinutes(3), output));
        Assert.Contains("interrupted at step", part.Stdout, StringComparison.Ordinal);
        Assert.Contains("data parallel: mpi(Open MPI", part.Stdout, StringComparison.Ordinal);
        Assert.Contains("rank 1: ", part.Stdout, StringComparison.Ordinal);

        using ProcessRun resumed = ProcessRun.Start(mpirun!, Mpirun(2, Train(dir, "mpi", Steps, "--resume")));
        Assert.Equal(0, resumed.Wait(TimeSpan.FromMinutes(5), output));
        Assert.Contains($"finished at step {Steps}", resumed.Stdout, StringComparison.Ordinal);

        Assert.Equal(Hash(dir, "reference", "model.safetensors"), Hash(dir, "mpi", "model.safetensors"));
        Assert.Equal(Hash(dir, "reference", "trainer_state.safetensors"), Hash(dir, "mpi", "trainer_state.safetensors"));
        Assert.Equal(Losses(dir, "reference"), Losses(dir, "mpi"));
        Directory.Delete(dir, true);
    }

    [SkippableFact]
    public void A_killed_rank_stops_the_others_with_a_message_instead_of_a_hang()
    {
        string? mpirun = FindMpirun();
        Skip.If(mpirun == null, "mpirun is not installed (Debian: openmpi-bin): the dead-rank test needs it");
        string dir = PrepareData(TestPaths.NewTempDirectory());
        using ProcessRun job = ProcessRun.Start(mpirun!, Mpirun(2, Train(dir, "run", 100000)));
        string state = Path.Combine(dir, "run", "trainer_state.safetensors");
        Assert.True(SpinWait.SpinUntil(() => File.Exists(state) || job.HasExited, TimeSpan.FromMinutes(3)), "no first checkpoint");

        // The file appears when the first checkpoint's rename is done, a moment before the trainer counts the checkpoint
        // as written; wait for the second checkpoint to replace it, so the first one has surely been counted.
        DateTime first = File.GetLastWriteTimeUtc(state);
        Assert.True(SpinWait.SpinUntil(() => job.HasExited || (File.Exists(state) && File.GetLastWriteTimeUtc(state) != first), TimeSpan.FromMinutes(3)), "no second checkpoint");
        int rank1 = job.ChildWithEnvironment("OMPI_COMM_WORLD_RANK=1");
        var clock = Stopwatch.StartNew();
        using (Process victim = Process.GetProcessById(rank1))
        {
            victim.Kill();
        }

        int code = job.Wait(TimeSpan.FromMinutes(2), output);
        output.WriteLine($"job ended {clock.Elapsed.TotalSeconds:F1} s after the kill");
        Assert.NotEqual(0, code);
        Assert.Contains("rank 0 of 2: terminated by the launcher during step", job.Stderr, StringComparison.Ordinal);
        Assert.Contains("continue with --resume", job.Stderr, StringComparison.Ordinal);
        Directory.Delete(dir, true);
    }
}
