using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Tokens;

public class JpegProfileTests
{
    public static TheoryData<string> PaperFiles => new() { "paper-0.jpg", "paper-1.jpg", "paper-2.jpg", "paper-3.jpg" };

    [Theory]
    [MemberData(nameof(PaperFiles))]
    public void Paper_header_is_byte_exact_with_the_oracle_and_strip_restore_round_trips(string name)
    {
        byte[] file = File.ReadAllBytes(TestPaths.Data("tokens", name));
        JpegProfile profile = JpegProfile.Paper();
        byte[] header = profile.ImageHeader();
        Assert.Equal(file.AsSpan(0, header.Length).ToArray(), header);
        byte[] body = profile.ToTokenBytes(file);
        Assert.Equal(file.Length - header.Length - 2, body.Length);
        Assert.Equal(file, profile.FromTokenBytes(body));
    }

    [Fact]
    public void Paper_tables_stream_is_byte_exact_with_the_oracle()
    {
        byte[] oracle = File.ReadAllBytes(TestPaths.Data("tokens", "paper-tables.jpg"));
        Assert.Equal(oracle, JpegProfile.Paper().TablesStream());
    }

    [Fact]
    public void Profile_read_back_from_the_oracle_streams_equals_the_paper_profile()
    {
        byte[] tables = File.ReadAllBytes(TestPaths.Data("tokens", "paper-tables.jpg"));
        byte[] image = File.ReadAllBytes(TestPaths.Data("tokens", "paper-0.jpg"));
        JpegProfile read = JpegProfile.FromStreams("paper-256-q25", tables, image, 25);
        Assert.Equal(JpegProfile.Paper().ToJson(), read.ToJson());
        Assert.Equal(JpegProfile.Paper().ContentHash(), read.ContentHash());
    }

    [Fact]
    public void Grey_header_matches_what_cjpeg_writes_apart_from_the_tables()
    {
        // cjpeg -grayscale -quality 25 -restart 1B on a 72x56 crop: the full stream is the image-only
        // header with DQT and DHT segments inserted; removing them must leave exactly our header.
        byte[] file = File.ReadAllBytes(TestPaths.Data("jpeg-check", "06-a-grey-q25-r1.jpg"));
        var withoutTables = new List<byte>();
        int pos = 0;
        withoutTables.AddRange(file.AsSpan(0, 2).ToArray());
        pos = 2;
        while (true)
        {
            int marker = file[pos + 1], length = (file[pos + 2] << 8) | file[pos + 3];
            if (marker is not (0xDB or 0xC4))
            {
                withoutTables.AddRange(file.AsSpan(pos, 2 + length).ToArray());
            }

            pos += 2 + length;
            if (marker == 0xDA)
            {
                break;
            }
        }

        JpegProfile grey = JpegProfile.Standard("g", 72, 56, 25, JpegProfile.Grey, 1);
        Assert.Equal(withoutTables.ToArray(), grey.ImageHeader());
        JpegStreamHeaders parsed = JpegStreamHeaders.Parse(file);
        Assert.Equal(grey.QuantizationTables.Single().Values, parsed.QuantTables.Single().ZigZagValues.Select(v => (int)v));
    }

    [Fact]
    public void Json_round_trips_and_the_hash_is_stable_and_content_sensitive()
    {
        JpegProfile paper = JpegProfile.Paper();
        string json = paper.ToJson();
        Assert.Contains("\"codec\": \"jpeg\"", json, StringComparison.Ordinal);
        CodecProfile back = CodecProfile.FromJson(json);
        Assert.IsType<JpegProfile>(back);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(paper.ContentHash(), back.ContentHash());
        Assert.NotEqual(paper.ContentHash(), JpegProfile.Standard("paper-256-q25", 256, 256, 26, JpegProfile.Yuv420, 1).ContentHash());
        Assert.NotEqual(paper.ContentHash(), JpegProfile.Standard("paper-256-q25", 256, 256, 25, JpegProfile.Yuv420, 2).ContentHash());
    }

    [Fact]
    public void Save_and_load_through_a_file()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "profile.json");
        JpegProfile.FashionMnist().Save(path);
        Assert.Equal(JpegProfile.FashionMnist().ContentHash(), CodecProfile.Load(path).ContentHash());
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(Path.GetFullPath(path))!, "*.tmp"));
    }

    [Fact]
    public void Invalid_json_profiles_are_refused_with_a_json_error()
    {
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => CodecProfile.FromJson("{\"codec\":\"jpeg\",\"width\":0,\"height\":5}"));
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => CodecProfile.FromJson("{\"codec\":\"gif\"}"));
    }

    [Fact]
    public void Strip_refuses_a_file_made_under_another_profile_and_keep_headers_keeps_everything()
    {
        byte[] file = File.ReadAllBytes(TestPaths.Data("tokens", "paper-0.jpg"));
        JpegProfile other = JpegProfile.Standard("x", 256, 128, 25, JpegProfile.Yuv420, 1);
        JpegFormatException e = Assert.Throws<JpegFormatException>(() => other.ToTokenBytes(file));
        Assert.True(e.ByteOffset > 20);
        var keep = new JpegProfile
        {
            Name = "keep", Width = 256, Height = 256, Quality = 25, Subsampling = JpegProfile.Yuv420, RestartInterval = 1,
            QuantizationTables = JpegProfile.Paper().QuantizationTables, HuffmanTables = JpegProfile.Paper().HuffmanTables, KeepHeaders = true,
        };
        Assert.Equal(file, keep.ToTokenBytes(file));
        Assert.Equal(file, keep.FromTokenBytes(keep.ToTokenBytes(file)));
    }
}

public class JpegProfileEncoderTests
{
    public static TheoryData<string, int, int, int, int> Profiles => new()
    {
        { JpegProfile.Yuv420, 256, 256, 25, 1 },
        { JpegProfile.Grey, 32, 32, 25, 1 },
        { JpegProfile.Yuv444, 40, 24, 80, 3 },
        { JpegProfile.Yuv420, 50, 37, 10, 0 },
    };

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Profile_header_and_tables_equal_the_encoders_and_its_files_strip_restore_and_check(string sub, int w, int h, int q, int ri)
    {
        JpegProfile p = JpegProfile.Standard("x", w, h, q, sub, ri);
        JpegEncoderOptions options = p.EncoderOptions();
        Assert.Equal(JpegEncoder.WriteHeader(w, h, options), p.ImageHeader());
        if (sub != JpegProfile.Grey)
        {
            Assert.Equal(new JpegEncoder(options).EncodeTables(), p.TablesStream());
        }

        PixelImage image = SyntheticImages.Make(w, h, 7, 3);
        if (sub == JpegProfile.Grey)
        {
            var grey = new PixelImage(w, h, 1);
            for (int i = 0; i < w * h; i++)
            {
                grey.Pixels[i] = image.Pixels[3 * i];
            }

            image = grey;
        }

        byte[] file = JpegEncoder.Encode(image, options);
        byte[] body = p.ToTokenBytes(file);
        Assert.Equal(file, p.FromTokenBytes(body));
        Assert.True(JpegScanChecker.CheckFile(file, p.HuffmanSpecs()).IsValid);
        Assert.True(JpegScanChecker.CheckScan(body, 0, p.TokenGrammar()).IsValid);
    }
}
