using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Jpeg;

public class JpegStreamSummaryTests
{
    private static PixelImage Input(string name) => PnmCodec.Read(File.ReadAllBytes(TestPaths.Data("jpeg-enc", "in", name)));

    [Theory]
    [InlineData("paper-k05_64x64", "k05_64x64.ppm", 25, JpegSubsampling.S420, 1, JpegStreamKind.ImageOnly, false)]
    [InlineData("q75-s420-r2-k23_37x21", "k23_37x21.ppm", 75, JpegSubsampling.S420, 2, JpegStreamKind.Full, false)]
    [InlineData("q90-s422-k20_257x131", "k20_257x131.ppm", 90, JpegSubsampling.S422, 0, JpegStreamKind.Full, false)]
    [InlineData("q75-gray-opt-k19_45x29", "k19_45x29.pgm", 75, JpegSubsampling.Gray, 0, JpegStreamKind.Full, true)]
    [InlineData("tables-q25", "k03_1x1.ppm", 25, JpegSubsampling.S420, 0, JpegStreamKind.TablesOnly, false)]
    public void Encoded_stream_structure_matches_the_snapshot(string name, string input, int quality, JpegSubsampling sampling, int restart, JpegStreamKind kind, bool optimize)
    {
        var options = new JpegEncoderOptions { Quality = quality, Subsampling = sampling, RestartInterval = restart, StreamKind = kind, OptimizeHuffman = optimize };
        byte[] jpeg = new JpegEncoder(options).Encode(Input(input));
        var summary = JpegStreamSummary.Parse(jpeg);
        Snapshot.VerifyText("jpeg-encoder-summary-" + name, summary.ToString());
    }

    [Fact]
    public void Summary_counts_restart_markers_and_mcus_of_the_paper_setting()
    {
        PixelImage image = Input("k20_257x131.ppm");
        byte[] jpeg = new JpegEncoder(JpegEncoderOptions.Paper).Encode(image);
        var summary = JpegStreamSummary.Parse(jpeg);
        int mcus = ((257 + 15) / 16) * ((131 + 15) / 16);
        Assert.Equal(mcus - 1, summary.RestartMarkerCount);
        Assert.Equal(1, summary.RestartInterval);
        Assert.Equal((257, 131), (summary.Width, summary.Height));
        Assert.Equal(["SOI", "APP0", "SOF0", "DRI", "SOS", "EOI"], summary.Segments.Select(s => s.Name));
        Assert.Contains($"{mcus} MCUs", summary.Segments[4].Description);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF }, 0)]
    [InlineData(new byte[] { 0x00, 0xD8 }, 0)]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xDB, 0x00 }, 4)]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x50, 0x00 }, 4)]
    [InlineData(new byte[] { 0xFF, 0xD8, 0x12 }, 2)]
    public void Malformed_structure_is_a_format_error_with_the_offset(byte[] stream, long offset)
    {
        var e = Assert.Throws<JpegFormatException>(() => JpegStreamSummary.Parse(stream));
        Assert.Equal(offset, e.ByteOffset);
    }

    [Fact]
    public void Truncated_entropy_coded_data_is_a_format_error()
    {
        byte[] jpeg = new JpegEncoder(new JpegEncoderOptions()).Encode(Input("k23_37x21.ppm"));
        Assert.Throws<JpegFormatException>(() => JpegStreamSummary.Parse(jpeg.AsSpan(0, jpeg.Length - 2)));
    }

    [SkippableFact]
    public void Crash_corpus_either_parses_or_raises_a_format_error()
    {
        Skip.If(TestPaths.SharedData is null, "../shared/data is absent: the bad-input corpus is only in this workplace");
        string[] files = Directory.GetFiles(Path.Combine(TestPaths.SharedData!, "jpeg-bad-inputs"), "*", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            try
            {
                JpegStreamSummary.Parse(File.ReadAllBytes(file)).ToString();
            }
            catch (JpegFormatException)
            {
            }
        }
    }
}
