using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using JpegLm.Cli.Commands;
using JpegLm.Cli.Pipeline;

namespace JpegLm.Cli.Reporting;

/// <summary>
/// How every <c>--json</c> report (check, eval, score) is written: one object on one line, property names as the
/// objects spell them, and the same escaping everywhere — only what JSON itself requires (quotes, backslashes,
/// control characters), so paths and checker messages with non-ASCII letters, '+' or '&lt;' stay readable instead
/// of turning into \u escapes in some reports and not in others. NaN and infinities (a baseline that could not be
/// computed) are written as the strings "NaN", "Infinity" and "-Infinity" rather than failing the command.
/// The metadata is generated at compile time (<see cref="CliJsonContext"/>), so an ahead-of-time compiled
/// <c>jpeglm</c> writes the same reports; a report type missing from it fails loudly rather than being guessed.
/// </summary>
internal static class CliJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        TypeInfoResolver = CliJsonContext.Default,
    };

    /// <summary>The report as one line of JSON.</summary>
    /// <exception cref="NotSupportedException">A type not listed in <see cref="CliJsonContext"/>.</exception>
    public static string Serialize<T>(T report) => JsonSerializer.Serialize(report, Options.GetTypeInfo(typeof(T)));
}

/// <summary>The averages of a run's completions in <c>eval --json</c> (<c>framesCompared</c>: videos only).</summary>
internal sealed record CompletionSummary(
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("promptRatio")] double PromptRatio,
    [property: JsonPropertyName("framesCompared"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? FramesCompared,
    [property: JsonPropertyName("psnr")] double Psnr,
    [property: JsonPropertyName("ssim")] double Ssim);

/// <summary>The probability a model puts on grammar-forbidden tokens at one kind of position, in <c>eval --json</c>.</summary>
internal sealed record ForbiddenMassEntry([property: JsonPropertyName("mass")] double Mass, [property: JsonPropertyName("positions")] long Positions);

/// <summary>The report of <c>check --json</c>.</summary>
internal sealed record CheckReport(
    [property: JsonPropertyName("codec")] string Codec,
    [property: JsonPropertyName("valid")] bool Valid,
    [property: JsonPropertyName("patchCount")] int PatchCount,
    [property: JsonPropertyName("corrupt")] List<CheckCommand.Corrupt> Corrupt);

/// <summary>The report of <c>score --json</c>.</summary>
internal sealed record ScoreReport(
    [property: JsonPropertyName("tokens")] int Tokens,
    [property: JsonPropertyName("meanNll")] double MeanNll,
    [property: JsonPropertyName("logprobs")] float[] LogProbs);

/// <summary>
/// Every type a <c>--json</c> report holds, the values of <see cref="EvalReport"/>'s sections included (they are
/// stored as <see cref="object"/> and resolved here by their runtime type).
/// </summary>
[JsonSerializable(typeof(OrderedDictionary<string, object?>))]
[JsonSerializable(typeof(Dictionary<string, ForbiddenMassEntry>))]
[JsonSerializable(typeof(CompletionSummary))]
[JsonSerializable(typeof(QualityReport))]
[JsonSerializable(typeof(CheckReport))]
[JsonSerializable(typeof(ScoreReport))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(float))]
[JsonSerializable(typeof(double))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
