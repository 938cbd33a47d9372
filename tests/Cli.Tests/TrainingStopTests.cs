using System.Globalization;
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
/// How a <c>jpeglm train</c> run reports and goes on: resuming a run that has already finished reports its recorded
/// losses, and loss.csv gains model FLOP/s and MFU behind its old columns.
/// </summary>
public class TrainingStopTests(PreparedTrainingData data, ITestOutputHelper output) : IClassFixture<PreparedTrainingData>
{
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

}
