using System.Buffers;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Jpeg;

public class JpegEncoderTests
{
    private static PixelImage Input(string name) => PnmCodec.Read(File.ReadAllBytes(TestPaths.Data("jpeg-enc", "in", name)));

    [Theory]
    [InlineData(256, 256, 1)]
    [InlineData(37, 21, 0)]
    [InlineData(1, 1, 3)]
    public void WriteHeader_is_the_prefix_of_the_image_only_stream_up_to_the_scan_data(int width, int height, int restart)
    {
        var options = JpegEncoderOptions.Paper with { RestartInterval = restart };
        var image = SyntheticImages.Make(width, height, 5, 0);
        byte[] stream = new JpegEncoder(options).Encode(image);
        byte[] header = JpegEncoder.WriteHeader(width, height, options);
        Assert.True(stream.AsSpan().StartsWith(header));
        JpegSegment sos = JpegStreamSummary.Parse(stream).Segments.Single(s => s.Name == "SOS");
        Assert.Equal(sos.Offset + 2 + sos.Length, header.Length);
    }

    [Fact]
    public void EncodeTables_matches_the_tables_only_stream_and_the_pillow_golden()
    {
        var options = new JpegEncoderOptions { Quality = 25, StreamKind = JpegStreamKind.TablesOnly };
        byte[] expected = File.ReadAllBytes(TestPaths.Data("jpeg-enc", "out", "pil_tables_q25.jpg"));
        Assert.Equal(expected, new JpegEncoder(options).EncodeTables());
        Assert.Equal(expected, new JpegEncoder(options).Encode(Input("k23_37x21.ppm")));
        Assert.Equal(expected, new JpegEncoder(options with { StreamKind = JpegStreamKind.ImageOnly }).EncodeTables());
    }

    [Fact]
    public void Stream_buffer_writer_and_array_overloads_agree()
    {
        PixelImage image = Input("k20_257x131.ppm");
        var encoder = new JpegEncoder(new JpegEncoderOptions { Quality = 80, RestartInterval = 4 });
        byte[] array = encoder.Encode(image);
        var writer = new ArrayBufferWriter<byte>();
        int written = encoder.Encode(image.Pixels, image.Width, image.Height, image.Channels, writer);
        using var stream = new MemoryStream();
        encoder.Encode(image, stream);
        Assert.Equal(array.Length, written);
        Assert.Equal(array, writer.WrittenSpan.ToArray());
        Assert.Equal(array, stream.ToArray());
    }

    [Fact]
    public void Grey_image_in_colour_equals_the_rgb_image_with_equal_channels()
    {
        PixelImage gray = Input("k19_45x29.pgm");
        var options = new JpegEncoderOptions { Quality = 60, Subsampling = JpegSubsampling.S422 };
        Assert.Equal(JpegEncoder.Encode(gray.ToRgb(), options), JpegEncoder.Encode(gray, options));
        var grayOptions = options with { Subsampling = JpegSubsampling.Gray };
        Assert.Equal(JpegEncoder.Encode(gray.ToRgb(), grayOptions), JpegEncoder.Encode(gray, grayOptions));
    }

    [Fact]
    public void Invalid_options_and_sizes_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new JpegEncoder(new JpegEncoderOptions { Quality = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new JpegEncoder(new JpegEncoderOptions { Quality = 101 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new JpegEncoder(new JpegEncoderOptions { RestartInterval = 65536 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new JpegEncoder(new JpegEncoderOptions { Subsampling = (JpegSubsampling)99 }));
        Assert.Throws<ArgumentException>(() => new JpegEncoder(JpegEncoderOptions.Paper with { OptimizeHuffman = true }));
        var encoder = new JpegEncoder(new JpegEncoderOptions());
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(new byte[70000 * 3], 70000, 1, 3, new ArrayBufferWriter<byte>()));
        Assert.Throws<ArgumentException>(() => encoder.Encode(new byte[10], 4, 4, 1, new ArrayBufferWriter<byte>()));
        Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(new byte[64], 4, 4, 4, new ArrayBufferWriter<byte>()));
        Assert.Throws<InvalidOperationException>(() => new JpegEncoder(new JpegEncoderOptions { OptimizeHuffman = true }).WriteHeader(8, 8));
    }

    [Fact]
    public void Low_quality_without_force_baseline_writes_16_bit_tables_and_sof1()
    {
        var summary = JpegStreamSummary.Parse(JpegEncoder.Encode(Input("k23_37x21.ppm"), new JpegEncoderOptions { Quality = 2, ForceBaseline = false }));
        Assert.Contains(summary.Segments, s => s.Name == "SOF1");
        Assert.Contains(summary.Segments, s => s.Name == "DQT" && s.Description.Contains("16-bit"));
        var baseline = JpegStreamSummary.Parse(JpegEncoder.Encode(Input("k23_37x21.ppm"), new JpegEncoderOptions { Quality = 2 }));
        Assert.Contains(baseline.Segments, s => s.Name == "SOF0");
    }

    [Fact]
    public void Large_uniform_and_noisy_images_round_trip_through_the_summary_walker()
    {
        // Worst-case entropy data (noise at q100) must fit the output buffer growth and stuffing paths.
        var noise = new PixelImage(300, 200, 3);
        new Random(1).NextBytes(noise.Pixels);
        foreach (var s in Enum.GetValues<JpegSubsampling>())
        {
            byte[] jpeg = JpegEncoder.Encode(noise, new JpegEncoderOptions { Quality = 100, Subsampling = s, RestartInterval = 5 });
            var summary = JpegStreamSummary.Parse(jpeg);
            Assert.Equal((300, 200), (summary.Width, summary.Height));
            Assert.True(summary.EntropyCodedBytes > 300 * 200 / 2);
        }
    }
}
