using JpegLm.Cli.Distributed;
namespace JpegLm.Cli.Tests.Distributed;

public class LaunchTests
{
    private static LaunchInfo? Detect(params (string Name, string Value)[] env)
        => LaunchInfo.Detect(name => env.FirstOrDefault(e => e.Name == name).Value);

    [Fact]
    public void A_plain_start_is_no_launch_so_nothing_of_mpi_loads()
    {
        Assert.Null(Detect());
        Assert.Null(Detect(("OMPI_COMM_WORLD_SIZE", "2"))); // half a launch is none
        Assert.Null(Detect(("PMI_RANK", "x")));
    }

    [Fact]
    public void Open_mpi_pmix_and_pmi_launchers_are_recognized()
    {
        Assert.Equal(new LaunchInfo("Open MPI mpirun", 1, 4, 1),
            Detect(("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_RANK", "1"), ("OMPI_COMM_WORLD_LOCAL_RANK", "1")));
        Assert.Equal(new LaunchInfo("PMIx", 3, 8, 3), Detect(("PMIX_RANK", "3"), ("SLURM_NTASKS", "8"), ("SLURM_LOCALID", "3")));
        Assert.Equal(new LaunchInfo("PMI", 0, 2, 0), Detect(("PMI_SIZE", "2"), ("PMI_RANK", "0")));
    }

    [Fact]
    public void The_watchdog_fires_once_for_a_call_past_its_timeout_and_never_for_one_that_returns()
    {
        var fired = new List<string>();
        using var watchdog = new CollectiveWatchdog(TimeSpan.FromMilliseconds(200), m => { lock (fired) { fired.Add(m); } });
        using (watchdog.Enter("quick"))
        {
            Thread.Sleep(20);
        }

        Thread.Sleep(400);
        Assert.Empty(fired);
        using (watchdog.Enter("MPI_Allreduce"))
        {
            // Wait for the firing rather than a fixed time (a loaded machine delays timer callbacks), then stay
            // in the call a while longer: it must not fire a second time for the same call.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (waited.Elapsed < TimeSpan.FromSeconds(20) && FiredCount() == 0)
            {
                Thread.Sleep(20);
            }

            Thread.Sleep(700);
        }

        Assert.Equal(["no answer from the other ranks in MPI_Allreduce for 0.2 s: a rank has died or hangs"], fired);

        int FiredCount()
        {
            lock (fired)
            {
                return fired.Count;
            }
        }
    }
}
