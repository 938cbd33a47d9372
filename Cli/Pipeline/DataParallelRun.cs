using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Pipeline;

/// <summary>
/// What <see cref="TrainingRun"/> does differently when it is one of several ranks: text that only rank 0 can
/// read is broadcast, a stop request on any rank stops every rank at the same step, per-rank throughput is
/// gathered for rank 0 to print, and a survivor that the launcher terminates says why. A single process treats
/// SIGTERM as a request to stop with a checkpoint.
/// </summary>
internal sealed class DataParallelRun(ICollectives group)
{
    private readonly double[] _flag = new double[1];
    private double _tokens, _compute, _communication, _total;

    /// <summary>The group.</summary>
    public ICollectives Group { get; } = group;

    /// <summary>Whether this rank prints and writes the run folder.</summary>
    public bool IsLead => Group.Rank == 0;

    /// <summary>The step in progress and the last checkpoint, for the termination message.</summary>
    public (int Step, int Checkpoint) Progress { get; set; }

    /// <summary>Rank 0's <paramref name="text"/> on every rank (length first, then the UTF-8 bytes).</summary>
    public string BroadcastText(string text)
    {
        if (Group.Size == 1)
        {
            return text;
        }

        byte[] bytes = IsLead ? Encoding.UTF8.GetBytes(text) : [];
        Span<long> length = [bytes.LongLength];
        Group.Broadcast(MemoryMarshal.AsBytes(length), 0);
        if (!IsLead)
        {
            bytes = new byte[checked((int)length[0])];
        }

        Group.Broadcast(bytes, 0);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>Whether any rank asked to stop (every rank must call this at the same step, and gets the same answer).</summary>
    public bool AnyStop(bool stop)
    {
        if (Group.Size == 1)
        {
            return stop;
        }

        _flag[0] = stop ? 1 : 0;
        Group.AllReduceSum(_flag);
        return _flag[0] > 0;
    }

    /// <summary>Adds one step's timing on this rank to the run's totals.</summary>
    public void Record(StepTiming timing)
    {
        _tokens += timing.Tokens;
        _compute += timing.ComputeSeconds;
        _communication += timing.CommunicationSeconds;
        _total += timing.TotalSeconds;
    }

    /// <summary>
    /// The run's throughput on every rank (a collective: all ranks call it) as lines for rank 0 to print: the global
    /// tokens/s, then each rank's tokens/s and how its step time split between computing and the gradient sum.
    /// </summary>
    public IReadOnlyList<string> Throughput()
    {
        int n = Group.Size;
        double[] all = new double[4 * n];
        all[4 * Group.Rank] = _tokens;
        all[(4 * Group.Rank) + 1] = _compute;
        all[(4 * Group.Rank) + 2] = _communication;
        all[(4 * Group.Rank) + 3] = _total;
        Group.AllReduceSum(all);
        double tokens = 0, slowest = 0;
        var lines = new List<string>();
        for (int r = 0; r < n; r++)
        {
            tokens += all[4 * r];
            slowest = Math.Max(slowest, all[(4 * r) + 3]);
        }

        lines.Add(string.Create(CultureInfo.InvariantCulture,
            $"throughput: {tokens / Math.Max(slowest, 1e-9):F0} tokens/s over {n} rank{(n == 1 ? "" : "s")} ({Group.Name})"));
        for (int r = 0; r < n && n > 1; r++)
        {
            double total = Math.Max(all[(4 * r) + 3], 1e-9);
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"  rank {r}: {all[4 * r] / total:F0} tokens/s; forward+backward {100 * all[(4 * r) + 1] / total:F0}%, gradient sum and waiting {100 * all[(4 * r) + 2] / total:F0}% of its step time"));
        }

        return lines;
    }

    /// <summary>
    /// Until disposed, decides what a SIGTERM means. A single process gets it from whoever runs the job (Slurm,
    /// Kubernetes, <c>timeout</c>, <c>kill</c>) and treats it as Ctrl-C: <paramref name="stop"/> is called, the run
    /// stops after the step in progress and saves a checkpoint; a second SIGTERM ends the process at once. Under a
    /// launcher (several ranks) a SIGTERM means the launcher is ending the job because a rank died, so there is no
    /// one to save with: the rank writes on <paramref name="log"/> which rank was stopped, in which step, and where the
    /// last checkpoint is, and lets the signal end it (docs/distributed.md; SIGUSR1 is the way to stop such a job).
    /// </summary>
    public IDisposable? HandleTermination(TextWriter log, string runPath, Action stop)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        if (Group.Size == 1)
        {
            bool asked = false;
            return PosixSignalRegistration.Create(PosixSignal.SIGTERM, e =>
            {
                if (asked)
                {
                    return; // the second one ends the process
                }

                asked = true;
                e.Cancel = true;
                log.WriteLine();
                log.WriteLine("SIGTERM: stopping after this step and saving a checkpoint (SIGTERM again to end at once)...");
                log.Flush();
                stop();
            });
        }

        return PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ =>
        {
            (int step, int checkpoint) = Progress;
            log.WriteLine($"rank {Group.Rank} of {Group.Size}: terminated by the launcher during step {step} (another rank has probably died); "
                + (checkpoint > 0 ? $"the last checkpoint in {runPath} is from step {checkpoint}: continue with --resume" : "no checkpoint was written yet"));
            log.Flush();
        });
    }
}
