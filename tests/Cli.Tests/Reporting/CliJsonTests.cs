using JpegLm.Cli.Reporting;

namespace JpegLm.Cli.Tests.Reporting;

/// <summary>The one way --json reports are written.</summary>
public class CliJsonTests
{
    [Fact]
    public void Paths_and_messages_keep_their_characters_and_only_json_escapes_apply()
        => Assert.Equal("""{"path":"runs/ré+<1>&'x'","reason":"a \"quoted\" \\ word"}""",
            CliJson.Serialize(new { path = "runs/ré+<1>&'x'", reason = "a \"quoted\" \\ word" }));

    [Fact]
    public void A_figure_that_could_not_be_computed_is_written_instead_of_failing_the_report()
        => Assert.Equal("""{"unigramBitsPerByte":"NaN","bitsPerByte":1.5}""", CliJson.Serialize(new { unigramBitsPerByte = double.NaN, bitsPerByte = 1.5 }));
}
