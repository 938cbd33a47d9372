using System.Globalization;
using System.Text.RegularExpressions;
using JpegLm.TestSupport;
using Xunit.Abstractions;
using static JpegLm.Cli.Tests.TrainingRuns;

namespace JpegLm.Cli.Tests;

/// <summary>The e2e images prepared once for the class (see <see cref="TrainingRuns.PrepareData"/>).</summary>
public sealed class PreparedTrainingData
{
    public PreparedTrainingData() => Dir = PrepareData(TestPaths.NewTempDirectory());

    public string Dir { get; }
}

/// <summary>
/// How a single <c>jpeglm train</c> process stops and goes on: SIGTERM (what Slurm, Kubernetes and <c>timeout</c>
/// send) saves a checkpoint that <c>--resume</c> continues bit for bit, and resuming a run that has already finished
/// reports its recorded losses.
/// </summary>
public partial class TrainingStopTests(PreparedTrainingData data, ITestOutputHelper output) : IClassFixture<PreparedTrainingData>
{
    // Long enough that the signal, sent as soon as the first checkpoint appears, lands well before the last step.
    private const int Steps = 100, BatchTokens = 512, CheckpointEvery = 3;

    [SkippableFact]
    public void Sigterm_saves_a_checkpoint_that_resume_continues_to_the_bytes_of_an_uninterrupted_run()
    {
        Skip.If(OperatingSystem.IsWindows(), "SIGTERM is a POSIX signal");
        string dir = data.Dir;
        using ProcessRun reference = ProcessRun.Start(Dotnet, [JpeglmDll, .. Train(dir, "sigterm-reference", Steps, BatchTokens, CheckpointEvery)]);
        Assert.Equal(0, reference.Wait(TimeSpan.FromMinutes(5), output));

        using ProcessRun part = ProcessRun.Start(Dotnet, [JpeglmDll, .. Train(dir, "sigterm", Steps, BatchTokens, CheckpointEvery)]);
        string state = Path.Combine(dir, "sigterm", "trainer_state.safetensors");
        Assert.True(SpinWait.SpinUntil(() => File.Exists(state) || part.HasExited, TimeSpan.FromMinutes(3)), "no first checkpoint");
        part.Signal(15);
        Assert.Equal(0, part.Wait(TimeSpan.FromMinutes(3), output));
        Assert.Contains("SIGTERM: stopping after this step and saving a checkpoint", part.Stderr, StringComparison.Ordinal);
        Match stopped = InterruptedAt().Match(part.Stdout);
        Assert.True(stopped.Success, $"not interrupted: {part.Stdout}");
        int step = int.Parse(stopped.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(step, CheckpointEvery, Steps - 1);

        // The checkpoint is the step the process stopped at: its loss.csv ends there, and resuming starts there.
        string[] rows = File.ReadAllLines(Path.Combine(dir, "sigterm", "loss.csv"));
        Assert.Equal(step.ToString(CultureInfo.InvariantCulture), rows[^1].Split(',')[0]);
        Assert.True(File.Exists(Path.Combine(dir, "sigterm", "model.safetensors")));

        using ProcessRun resumed = ProcessRun.Start(Dotnet, [JpeglmDll, .. Train(dir, "sigterm", Steps, BatchTokens, CheckpointEvery, "--resume")]);
        Assert.Equal(0, resumed.Wait(TimeSpan.FromMinutes(5), output));
        Assert.Contains($"at step {step}", resumed.Stdout, StringComparison.Ordinal);
        Assert.Contains($"finished at step {Steps}", resumed.Stdout, StringComparison.Ordinal);

        Assert.Equal(Hash(dir, "sigterm-reference", "model.safetensors"), Hash(dir, "sigterm", "model.safetensors"));
        Assert.Equal(Hash(dir, "sigterm-reference", "trainer_state.safetensors"), Hash(dir, "sigterm", "trainer_state.safetensors"));
        Assert.Equal(Losses(dir, "sigterm-reference"), Losses(dir, "sigterm"));
    }

    [Fact]
    public void Resuming_a_finished_run_reports_its_last_loss_and_validation_instead_of_NaN()
    {
        string[] args = Train(data.Dir, "finished", 8, 128, 0);
        var first = new StringWriter();
        Assert.Equal(0, Program.Run(args, first, new StringWriter()));
        string finished = FinishedLine(first.ToString());
        Assert.Matches(@"finished at step 8: loss \d+\.\d{4}, validation \d+\.\d{4} nats/token", finished);

        var again = new StringWriter();
        Assert.Equal(0, Program.Run([.. args, "--resume"], again, new StringWriter()));
        output.WriteLine(again.ToString());
        Assert.Contains("resumed", again.ToString(), StringComparison.Ordinal);
        Assert.Equal(finished, FinishedLine(again.ToString()));
        Assert.DoesNotContain("NaN", again.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Loss_csv_keeps_its_columns_and_appends_model_flops_and_mfu()
    {
        string[] args = Train(data.Dir, "columns", 4, 128, 0);
        var stdout = new StringWriter();
        Assert.Equal(0, Program.Run(args, stdout, new StringWriter()));
        Assert.Contains("model FLOPs: ", stdout.ToString(), StringComparison.Ordinal);
        string[] rows = File.ReadAllLines(Path.Combine(data.Dir, "columns", "loss.csv"));
        Assert.Equal("step,loss,lr,grad_norm,tokens_per_s,val_loss,flops_per_s,mfu", rows[0]);
        Assert.Equal(5, rows.Length);
        foreach (string row in rows.Skip(1))
        {
            string[] f = row.Split(',');
            Assert.Equal(8, f.Length);
            double tokens = double.Parse(f[4], CultureInfo.InvariantCulture), flops = double.Parse(f[6], CultureInfo.InvariantCulture);
            double mfu = double.Parse(f[7], CultureInfo.InvariantCulture); // the CPU states a peak: its measured SGEMM
            Assert.True(tokens > 0 && flops > tokens && mfu > 0, row);
        }
    }

    private static string FinishedLine(string stdout) => stdout.Split('\n').Single(l => l.StartsWith("finished at step", StringComparison.Ordinal)).TrimEnd();

    [GeneratedRegex(@"interrupted at step (\d+)")]
    private static partial Regex InterruptedAt();
}
