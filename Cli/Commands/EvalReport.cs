using System.Globalization;
using JpegLm.Cli.Pipeline;
using JpegLm.Cli.Reporting;

namespace JpegLm.Cli.Commands;

/// <summary>
/// The report of <c>jpeglm eval</c>, images and videos alike: validation bits per byte and per document next to the
/// byte-unigram baseline, and the validity of constrained and unconstrained samples. Each half of the command then
/// adds what only it measures (completions, diagnostics), and the whole is printed as text or as one JSON object.
/// </summary>
internal sealed class EvalReport
{
    private readonly OrderedDictionary<string, object?> _json = [];
    private readonly List<Action<TextWriter>> _text = [];

    /// <summary>
    /// Starts the report of <paramref name="model"/> on <paramref name="data"/>. A file is a <paramref name="document"/>
    /// (<c>image</c>, <c>video</c>) made of <paramref name="unit"/> (<c>patches</c>, <c>slices</c>); the JSON names follow
    /// (<c>bitsPerImage</c>, <c>corruptSlicesPerVideo</c>, …). <paramref name="codec"/> is named in the JSON when given.
    /// <paramref name="unfinished"/> counts constrained samples, completions included, that hit the token cap.
    /// </summary>
    public EvalReport(string model, string data, string? codec, ValidationResult validation, string document, string unit,
        IReadOnlyList<IGeneratedSample> constrained, IReadOnlyList<IGeneratedSample> unconstrained, int unfinished)
    {
        string perDocument = "Per" + Capitalized(document);
        _json["model"] = model;
        _json["data"] = data;
        if (codec != null)
        {
            _json["codec"] = codec;
        }

        _json["validationDocuments"] = validation.Documents;
        _json["scoredTokens"] = validation.ScoredTokens;
        _json["bitsPerByte"] = validation.BitsPerByte;
        _json["bits" + perDocument] = validation.BitsPerDocument;
        _json["unigramBitsPerByte"] = validation.UnigramBitsPerByte;
        int constrainedValid = constrained.Count(s => s.Valid), freeValid = unconstrained.Count(s => s.Valid);
        double corrupt = unconstrained.Count == 0 ? 0 : unconstrained.Average(s => s.CorruptUnits);
        double units = unconstrained.Count == 0 ? 0 : unconstrained.Average(s => s.Units);
        _json["constrained"] = new OrderedDictionary<string, object?> { ["valid"] = constrainedValid, ["count"] = constrained.Count, ["unfinished"] = unfinished };
        _json["unconstrained"] = new OrderedDictionary<string, object?>
        {
            ["valid"] = freeValid,
            ["count"] = unconstrained.Count,
            ["corrupt" + Capitalized(unit) + perDocument] = corrupt,
            [unit + perDocument] = units,
        };

        var inv = CultureInfo.InvariantCulture;
        _text.Add(w => w.WriteLine(string.Create(inv,
            $"validation: {validation.BitsPerByte:F3} bits/byte ({validation.BitsPerDocument:F0} bits/{document}) over {validation.Documents} {document}s; byte-unigram baseline {validation.UnigramBitsPerByte:F3} bits/byte")));
        if (constrained.Count + unconstrained.Count > 0)
        {
            _text.Add(w => w.WriteLine($"constrained samples valid: {constrainedValid}/{constrained.Count} (unfinished at the token cap, completions included: {unfinished})"));
            _text.Add(w => w.WriteLine(string.Create(inv, $"unconstrained samples valid: {freeValid}/{unconstrained.Count}, corrupt {unit} per {document} {corrupt:F2} of {units:F0}")));
        }
    }

    /// <summary>Adds a section: <paramref name="value"/> under <paramref name="name"/> in the JSON, and <paramref name="text"/> for the text report (null: none).</summary>
    public void Add(string name, object? value, Action<TextWriter>? text)
    {
        _json[name] = value;
        if (text != null)
        {
            _text.Add(text);
        }
    }

    /// <summary>Prints the report: one line of JSON (<see cref="CliJson"/>), or the text lines.</summary>
    public void Write(TextWriter stdout, bool json)
    {
        if (json)
        {
            stdout.WriteLine(CliJson.Serialize(_json));
            return;
        }

        foreach (Action<TextWriter> write in _text)
        {
            write(stdout);
        }
    }

    private static string Capitalized(string word) => char.ToUpperInvariant(word[0]) + word[1..];
}
