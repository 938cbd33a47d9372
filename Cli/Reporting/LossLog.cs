using System.Globalization;
using System.Text;
using JpegLm.Codec.IO;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Reporting;

/// <summary>
/// A training run's <c>loss.csv</c> and the <see cref="LossCurve"/> drawn from it: one row per optimizer step, read
/// back on <c>--resume</c> so that the file, the picture and the reported losses continue where the checkpoint stopped.
/// The one place that knows the file's columns.
/// </summary>
/// <remarks>
/// Columns, in this order (new ones are appended, so readers that index columns keep working):
/// <c>step, loss, lr, grad_norm, tokens_per_s, val_loss, flops_per_s, mfu</c>. tokens/s and FLOP/s are global (all
/// ranks); <c>mfu</c> is a fraction of the backends' peak, empty when the backend states no peak; <c>val_loss</c> is
/// empty on steps without validation. Rows written before a column existed are padded with empty fields.
/// </remarks>
internal sealed class LossLog
{
    /// <summary>The header line.</summary>
    public const string Header = "step,loss,lr,grad_norm,tokens_per_s,val_loss,flops_per_s,mfu";

    /// <summary>Columns that depend on timing: two runs that compute the same bits differ in these and only these.</summary>
    public static readonly IReadOnlyList<string> TimingColumns = ["tokens_per_s", "flops_per_s", "mfu"];

    private static readonly int Columns = Header.Split(',').Length;
    private readonly StringBuilder _rows = new();

    /// <summary>The curves, for <c>loss.png</c>.</summary>
    public LossCurve Curve { get; } = new();

    /// <summary>The loss of the first row (the run's first step); NaN before any.</summary>
    public float FirstLoss { get; private set; } = float.NaN;

    /// <summary>The loss of the last row; NaN before any.</summary>
    public float LastLoss { get; private set; } = float.NaN;

    /// <summary>The last validation loss recorded, if any.</summary>
    public float? LastValidationLoss { get; private set; }

    /// <summary>
    /// Takes the rows of an earlier <c>loss.csv</c> up to and including <paramref name="step"/> (a resumed run goes on
    /// from its checkpoint, so rows written after it are dropped). A missing file leaves the log empty.
    /// </summary>
    public void Load(string path, int step)
    {
        if (!File.Exists(path))
        {
            return;
        }

        foreach (string line in File.ReadLines(path).Skip(1))
        {
            string[] f = line.Split(',');
            if (f.Length < 6 || !int.TryParse(f[0], CultureInfo.InvariantCulture, out int s) || s > step)
            {
                continue;
            }

            float loss = float.Parse(f[1], CultureInfo.InvariantCulture);
            float? validation = f[5].Length > 0 ? float.Parse(f[5], CultureInfo.InvariantCulture) : null;
            Append(s, loss, validation, string.Join(',', f.Concat(Enumerable.Repeat("", Math.Max(0, Columns - f.Length)))));
        }
    }

    /// <summary>Adds one step's row: its record, the model FLOP/s it reached and their utilization of the peak (null: unknown).</summary>
    public void Add(TrainingRecord r, double flopsPerSecond, double? mfu)
    {
        string row = string.Create(CultureInfo.InvariantCulture,
            $"{r.Step},{r.Loss:G6},{r.LearningRate:G4},{r.GradientNorm:G4},{r.TokensPerSecond:F0},{(r.ValidationLoss is float v ? v.ToString("G6", CultureInfo.InvariantCulture) : "")},{flopsPerSecond:G4},{(mfu is double m ? m.ToString("G4", CultureInfo.InvariantCulture) : "")}");
        Append(r.Step, r.Loss, r.ValidationLoss, row);
    }

    /// <summary>Writes <paramref name="csvPath"/> (atomically) and, once there is a point, the curve to <paramref name="pngPath"/>.</summary>
    public void Save(string csvPath, string pngPath)
    {
        AtomicFile.WriteAllBytes(csvPath, Encoding.UTF8.GetBytes(Header + "\n" + _rows));
        SaveCurve(pngPath);
    }

    /// <summary>Redraws the curve alone (between checkpoints; rendering costs milliseconds).</summary>
    public void SaveCurve(string pngPath)
    {
        if (Curve.Count > 0)
        {
            Curve.Save(pngPath, "JpegLm training loss");
        }
    }

    private void Append(int step, float loss, float? validation, string row)
    {
        _rows.Append(row).Append('\n');
        Curve.AddTrain(step, loss);
        if (float.IsNaN(FirstLoss))
        {
            FirstLoss = loss;
        }

        LastLoss = loss;
        if (validation is float v)
        {
            Curve.AddValidation(step, v);
            LastValidationLoss = v;
        }
    }
}
