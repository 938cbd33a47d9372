using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>Image-only streams: Annex K default Huffman tables and tables given separately.</summary>
public class JpegDecoderTablesTests
{
    private const byte Dqt = 0xDB, Dht = 0xC4;

    [Theory]
    [InlineData("cj_q75.jpg")]
    [InlineData("cj_restart_mcu_q25.jpg")]
    [InlineData("cj_gray.jpg")]
    public void Stream_without_DHT_decodes_with_the_Annex_K_tables(string file)
    {
        // cjpeg without -optimize writes exactly the Annex K tables, so dropping them changes nothing.
        byte[] jpeg = JpegGoldenFiles.Read(file);
        byte[] imageOnly = JpegStreamEditing.WithoutSegments(jpeg, Dht);
        Assert.True(imageOnly.Length < jpeg.Length);
        Assert.Equal(JpegGoldenFiles.Get(file).Sha256, JpegGoldenFiles.Sha256(JpegDecoder.Decode(imageOnly).Pixels));
    }

    [Fact]
    public void Stream_with_optimized_tables_fails_or_differs_without_them()
    {
        // Guard that the previous test is meaningful: with non-standard tables the default is wrong.
        byte[] jpeg = JpegGoldenFiles.Read("cj_opt.jpg");
        byte[] imageOnly = JpegStreamEditing.WithoutSegments(jpeg, Dht);
        string expected = JpegGoldenFiles.Get("cj_opt.jpg").Sha256;
        try
        {
            Assert.NotEqual(expected, JpegGoldenFiles.Sha256(JpegDecoder.Decode(imageOnly).Pixels));
        }
        catch (JpegFormatException)
        {
        }
    }

    [Theory]
    [InlineData("cj_opt.jpg")]
    [InlineData("ff_422.jpg")]
    [InlineData("cj_prog.jpg")]
    public void Image_only_stream_decodes_with_a_tables_only_stream(string file)
    {
        byte[] jpeg = JpegGoldenFiles.Read(file);
        byte[] imageOnly = JpegStreamEditing.WithoutSegments(jpeg, Dqt, Dht);
        byte[] tables = JpegStreamEditing.TablesOnly(jpeg, Dqt, Dht);
        var options = new JpegDecoderOptions { Tables = tables };
        Assert.Equal(JpegGoldenFiles.Get(file).Sha256, JpegGoldenFiles.Sha256(JpegDecoder.Decode(imageOnly, options).Pixels));
    }

    [Fact]
    public void A_full_stream_can_serve_as_the_tables_stream()
    {
        byte[] jpeg = JpegGoldenFiles.Read("im_q85.jpg");
        byte[] imageOnly = JpegStreamEditing.WithoutSegments(jpeg, Dqt, Dht);
        var options = new JpegDecoderOptions { Tables = jpeg };
        Assert.Equal(JpegGoldenFiles.Get("im_q85.jpg").Sha256, JpegGoldenFiles.Sha256(JpegDecoder.Decode(imageOnly, options).Pixels));
    }

    [Fact]
    public void Missing_quantization_table_is_a_clear_error()
    {
        byte[] imageOnly = JpegStreamEditing.WithoutSegments(JpegGoldenFiles.Read("cj_q75.jpg"), Dqt);
        var e = Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(imageOnly));
        Assert.Contains("quantization table 0 is not defined", e.Message);
        Assert.Contains("Tables", e.Message);
        Assert.True(e.ByteOffset > 0);
    }

    [Fact]
    public void Undefined_huffman_table_beyond_the_defaults_is_an_error()
    {
        byte[] jpeg = JpegGoldenFiles.Read("cj_q75.jpg");
        (byte _, int sos, int _) = JpegStreamEditing.Segments(jpeg).Single(s => s.Marker == 0xDA);
        byte[] edited = (byte[])jpeg.Clone();
        edited[sos + 6] = 0x22; // Component 1 selects DC/AC tables 2, which nobody defined.
        var e = Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(edited));
        Assert.Contains("Huffman table 2", e.Message);
    }
}

/// <summary>The reuse-the-output-image entry point.</summary>
public class JpegDecoderDecodeIntoTests
{
    [Fact]
    public void DecodeInto_writes_the_same_pixels_and_checks_the_size()
    {
        byte[] jpeg = JpegGoldenFiles.Read("cj_prog.jpg");
        var image = new JpegLm.Codec.Imaging.PixelImage(257, 131, 3);
        image.Pixels.AsSpan().Fill(7);
        JpegDecodeResult r = JpegDecoder.DecodeInto(jpeg, image);
        Assert.Same(image, r.Image);
        Assert.Equal(JpegGoldenFiles.Get("cj_prog.jpg").Sha256, JpegGoldenFiles.Sha256(image.Pixels));
        Assert.Throws<ArgumentException>(() => JpegDecoder.DecodeInto(jpeg, new JpegLm.Codec.Imaging.PixelImage(257, 130, 3)));
        Assert.Throws<ArgumentException>(() => JpegDecoder.DecodeInto(jpeg, new JpegLm.Codec.Imaging.PixelImage(257, 131, 1)));
    }
}
