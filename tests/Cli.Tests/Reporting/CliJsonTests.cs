using JpegLm.Cli.Reporting;

namespace JpegLm.Cli.Tests.Reporting;

/// <summary>The one way --json reports are written.</summary>
public class CliJsonTests
{
    [Fact]
    public void Paths_and_messages_keep_their_characters_and_only_json_escapes_apply()
        => Assert.Equal("""{"path":"runs/ré+<1>&'x'","reason":"a \"quoted\" \\ word"}""",
            CliJson.Serialize(new OrderedDictionary<string, object?> { ["path"] = "runs/ré+<1>&'x'", ["reason"] = "a \"quoted\" \\ word" }));

    [Fact]
    public void A_figure_that_could_not_be_computed_is_written_instead_of_failing_the_report()
        => Assert.Equal("""{"unigramBitsPerByte":"NaN","bitsPerByte":1.5}""",
            CliJson.Serialize(new OrderedDictionary<string, object?> { ["unigramBitsPerByte"] = double.NaN, ["bitsPerByte"] = 1.5 }));

    [Fact]
    public void Report_records_keep_their_json_names()
    {
        Assert.Equal("""{"count":2,"promptRatio":0.5,"psnr":30,"ssim":0.9}""", CliJson.Serialize(new CompletionSummary(2, 0.5, null, 30, 0.9)));
        Assert.Equal("""{"count":2,"promptRatio":0.5,"framesCompared":6,"psnr":30,"ssim":0.9}""", CliJson.Serialize(new CompletionSummary(2, 0.5, 6, 30, 0.9)));
        Assert.Equal("""{"tokens":3,"meanNll":1.25,"logprobs":[-1,-1.5]}""", CliJson.Serialize(new ScoreReport(3, 1.25, [-1f, -1.5f])));
    }

    [Fact]
    public void A_type_without_compile_time_metadata_fails_loudly_instead_of_being_guessed()
        => Assert.Throws<NotSupportedException>(() => CliJson.Serialize(new { path = "x" }));
}
