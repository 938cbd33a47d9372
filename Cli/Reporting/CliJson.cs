using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace JpegLm.Cli.Reporting;

/// <summary>
/// How every <c>--json</c> report (check, eval, score) is written: one object on one line, property names as the
/// objects spell them, and the same escaping everywhere — only what JSON itself requires (quotes, backslashes,
/// control characters), so paths and checker messages with non-ASCII letters, '+' or '&lt;' stay readable instead
/// of turning into \u escapes in some reports and not in others. NaN and infinities (a baseline that could not be
/// computed) are written as the strings "NaN", "Infinity" and "-Infinity" rather than failing the command.
/// </summary>
internal static class CliJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The report as one line of JSON.</summary>
    public static string Serialize<T>(T report) => JsonSerializer.Serialize(report, Options);
}
