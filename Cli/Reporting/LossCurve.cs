using JpegLm.Codec.IO;

namespace JpegLm.Cli.Reporting;

/// <summary>
/// The training and validation loss curves drawn to a PNG with ScottPlot, rewritten atomically as training
/// goes so that a viewer never catches half a file.
/// </summary>
public sealed class LossCurve
{
    private readonly List<double> _trainSteps = [], _trainLoss = [], _valSteps = [], _valLoss = [];

    /// <summary>Adds a training-loss point.</summary>
    public void AddTrain(long step, double loss)
    {
        _trainSteps.Add(step);
        _trainLoss.Add(loss);
    }

    /// <summary>Adds a validation-loss point.</summary>
    public void AddValidation(long step, double loss)
    {
        _valSteps.Add(step);
        _valLoss.Add(loss);
    }

    /// <summary>Number of training points so far.</summary>
    public int Count => _trainSteps.Count;

    /// <summary>Renders the curves and writes them to <paramref name="path"/> (PNG).</summary>
    public void Save(string path, string title, int width = 800, int height = 450)
    {
        var plot = new ScottPlot.Plot();
        if (_trainSteps.Count > 0)
        {
            var train = plot.Add.ScatterLine(_trainSteps.ToArray(), _trainLoss.ToArray());
            train.LegendText = "train";
        }

        if (_valSteps.Count > 0)
        {
            var val = plot.Add.Scatter(_valSteps.ToArray(), _valLoss.ToArray());
            val.LegendText = "validation";
        }

        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel("loss (nats / token)");
        plot.ShowLegend();
        byte[] png = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        AtomicFile.WriteAllBytes(path, png);
    }
}
