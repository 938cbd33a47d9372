using System.Globalization;

namespace JpegLm.Cuda.Checks;

/// <summary>
/// gpu-check's output: every line goes to the console and the log; checks are summary rows. A stage process
/// writes its rows to <c>summary-STAGE.tsv</c> and its parity table to <c>parity-STAGE.tsv</c>; the orchestrating
/// process writes <c>gpu-check.log</c>, <c>parity.tsv</c> (all stages) and <c>summary.txt</c> (the table).
/// </summary>
internal sealed class GpuCheckReport(TextWriter console, string? outDirectory, string? stage)
{
    private const string ParityHeader = "precision\toperation\toutput\trelative_error\tmax_abs_error\tmax_element_error\ttolerance\telement_tolerance\tdeterministic\tpassed";
    private static readonly string[] ParityFiles = ["parity-fp32.tsv", "parity-bf16.tsv"];
    private readonly List<string> _lines = [];
    private readonly List<string> _parity = [];
    private readonly object _gate = new();

    public string? OutDirectory => outDirectory;

    public List<(string Check, bool? Passed, string Value)> Summary { get; } = [];

    public void Line(string text = "")
    {
        lock (_gate)
        {
            console.WriteLine(text);
            console.Flush();
            _lines.Add(text);
        }
    }

    public void Parity(string precision, ParityResult r)
        => _parity.Add(string.Create(CultureInfo.InvariantCulture,
            $"{precision}\t{r.Operation}\t{r.Output}\t{r.RelativeError:E3}\t{r.MaxAbsoluteError:E3}\t{r.MaxElementError:E3}\t{r.Tolerance:E1}\t{r.ElementTolerance:E1}\t{r.Deterministic}\t{r.Passed}"));

    public void Add(string check, bool? passed, string value, bool quiet = false)
    {
        lock (_gate)
        {
            Summary.Add((check, passed, value));
            if (!quiet)
            {
                Line($"  => {check}: {(passed is null ? "info" : passed.Value ? "PASS" : "FAIL")} {value}");
            }
        }
    }

    public string Table()
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        int width = Math.Max(28, Summary.Count == 0 ? 0 : Summary.Max(s => s.Check.Length));
        w.WriteLine($"{"check".PadRight(width)}  result  value");
        foreach ((string check, bool? passed, string value) in Summary)
        {
            w.WriteLine($"{check.PadRight(width)}  {(passed is null ? "  -   " : passed.Value ? " PASS " : " FAIL ")}  {value}");
        }

        return w.ToString();
    }

    /// <summary>A stage's files: its summary rows (read back by the orchestrator) and its parity table.</summary>
    public void WriteStageFiles()
    {
        if (outDirectory == null || stage == null)
        {
            return;
        }

        Write($"summary-{stage}.tsv", string.Concat(Summary.Select(s => $"{s.Check}\t{s.Passed}\t{s.Value.Replace('\t', ' ').Replace('\n', ' ')}\n")));
        if (_parity.Count > 0)
        {
            Write($"parity-{stage}.tsv", ParityHeader + "\n" + string.Join('\n', _parity) + "\n");
        }
    }

    public void WriteFiles()
    {
        if (outDirectory == null)
        {
            return;
        }

        Write("gpu-check.log", string.Join('\n', _lines) + "\n");
        var parity = new List<string> { ParityHeader };
        foreach (string file in ParityFiles.Select(f => Path.Combine(outDirectory, f)).Where(File.Exists))
        {
            parity.AddRange(File.ReadAllLines(file).Skip(1));
        }

        Write("parity.tsv", string.Join('\n', parity) + "\n");
        Write("summary.txt", Table());
    }

    public void Write(string name, string text)
    {
        string path = Path.Combine(outDirectory!, name);
        Codec.IO.AtomicFile.WriteAllText(path, text);
    }
}
