using System.Diagnostics;
using System.Globalization;

namespace JpegLm.Cli.Reporting;

/// <summary>
/// A one-line progress bar on a terminal (redrawn in place at most ~10 times a second), or plain
/// periodic lines when output is redirected, so logs stay readable.
/// </summary>
public sealed class ConsoleProgress
{
    private readonly TextWriter _writer;
    private readonly long _total;
    private readonly string _unit;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive;
    private long _lastDrawMs = -1000;

    /// <summary>Creates a bar over <paramref name="total"/> items called <paramref name="unit"/> (e.g. "images").</summary>
    public ConsoleProgress(TextWriter writer, long total, string unit)
    {
        _writer = writer ?? throw new ArgumentNullException(nameof(writer));
        _total = Math.Max(1, total);
        _unit = unit;
        _interactive = ReferenceEquals(writer, Console.Error) ? !Console.IsErrorRedirected
            : ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
    }

    /// <summary>Reports <paramref name="done"/> items finished, with an optional status text (loss, ...).</summary>
    public void Report(long done, string status = "")
    {
        long now = _clock.ElapsedMilliseconds;
        bool last = done >= _total;
        if (!last && now - _lastDrawMs < (_interactive ? 100 : 5000))
        {
            return;
        }

        _lastDrawMs = now;
        double seconds = Math.Max(1e-3, _clock.Elapsed.TotalSeconds);
        double rate = done / seconds;
        double eta = rate > 0 ? (_total - done) / rate : double.NaN;
        int filled = (int)(24 * Math.Min(1.0, (double)done / _total));
        string line = string.Create(CultureInfo.InvariantCulture,
            $"[{new string('#', filled)}{new string('.', 24 - filled)}] {done}/{_total} {_unit}  {rate:F1} {_unit}/s  ETA {FormatSeconds(eta)}  {status}");
        if (_interactive)
        {
            _writer.Write("\r" + line.PadRight(Math.Min(160, line.Length + 8)));
            if (last)
            {
                _writer.WriteLine();
            }
        }
        else
        {
            _writer.WriteLine(line);
        }
    }

    private static string FormatSeconds(double s)
        => double.IsNaN(s) || double.IsInfinity(s) ? "?" : TimeSpan.FromSeconds(Math.Round(s)).ToString(s >= 3600 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture);
}
