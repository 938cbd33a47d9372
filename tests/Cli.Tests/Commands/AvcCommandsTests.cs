using System.Security.Cryptography;
using System.Text.Json;
using JpegLm.TestSupport;

namespace JpegLm.Cli.Tests.Commands;

public class AvcCommandsTests
{
    private static string Stream(string name) => TestPaths.Data("avc", "x264", name + ".264");

    [Fact]
    public void Decode_avc_writes_raw_yuv_matching_the_golden_md5()
    {
        string dir = TestPaths.NewTempDirectory();
        string output = Path.Combine(dir, "out.yuv");
        var stdout = new StringWriter();
        Assert.Equal(0, Program.Run(["decode", Stream("pan_kodim01"), output], stdout, new StringWriter()));
#pragma warning disable CA5351 // MD5 is the golden files' checksum, not a security measure
        string md5 = Convert.ToHexStringLower(MD5.HashData(File.ReadAllBytes(output)));
#pragma warning restore CA5351
        Assert.Equal(File.ReadAllText(TestPaths.Data("avc", "x264", "pan_kodim01.md5")).Trim(), md5);
        Assert.Contains("15 frames", stdout.ToString());
        Assert.Empty(Directory.GetFiles(dir, "*.tmp-*"));
    }

    [Fact]
    public void Decode_avc_writes_y4m_with_a_header_and_frame_markers()
    {
        string output = Path.Combine(TestPaths.NewTempDirectory(), "out.y4m");
        Assert.Equal(0, Program.Run(["decode", Stream("diag_kodim23"), output], new StringWriter(), new StringWriter()));
        byte[] data = File.ReadAllBytes(output);
        string header = System.Text.Encoding.ASCII.GetString(data, 0, 40);
        Assert.StartsWith("YUV4MPEG2 W256 H144", header);
        int frameSize = 256 * 144 * 3 / 2;
        int headerLength = Array.IndexOf(data, (byte)'\n') + 1;
        Assert.Equal(headerLength + (15 * (6 + frameSize)), data.Length);
    }

    [Fact]
    public void Decode_avc_of_a_broken_stream_exits_1_naming_the_position()
    {
        string dir = TestPaths.NewTempDirectory();
        string input = Path.Combine(dir, "broken.264");
        byte[] data = File.ReadAllBytes(Stream("pan_kodim05"));
        for (int i = data.Length / 2; i < (data.Length / 2) + 3; i++)
        {
            data[i] ^= 0xFF;
        }

        File.WriteAllBytes(input, data);
        var stderr = new StringWriter();
        Assert.Equal(1, Program.Run(["decode", input, Path.Combine(dir, "o.yuv")], new StringWriter(), stderr));
        Assert.Contains("frame", stderr.ToString());
        Assert.Contains("byte offset", stderr.ToString());
        Assert.False(File.Exists(Path.Combine(dir, "o.yuv")));
        Assert.Equal(0, Program.Run(["decode", input, Path.Combine(dir, "o.yuv"), "--tolerant"], new StringWriter(), stderr));
        Assert.Contains("concealed slice", stderr.ToString());

        var json = new StringWriter();
        Assert.Equal(1, Program.Run(["check", input, "--json"], json, new StringWriter()));
        using JsonDocument doc = JsonDocument.Parse(json.ToString());
        Assert.False(doc.RootElement.GetProperty("valid").GetBoolean());
        JsonElement first = doc.RootElement.GetProperty("corrupt")[0];
        Assert.True(first.GetProperty("patch").GetInt32() >= 0);
        Assert.True(first.GetProperty("offset").GetInt64() > 0);
    }

    [Fact]
    public void Check_avc_json_reports_a_valid_stream_and_its_patch_count()
    {
        var stdout = new StringWriter();
        Assert.Equal(0, Program.Run(["check", Stream("pan_kodim01"), "--json"], stdout, new StringWriter()));
        Assert.Equal("{\"codec\":\"avc\",\"valid\":true,\"patchCount\":2160,\"corrupt\":[]}", stdout.ToString().Trim());
    }

    [Fact]
    public void Check_recognises_an_h264_stream_named_jsv_or_anything()
    {
        string dir = TestPaths.NewTempDirectory();
        foreach (string name in new[] { "clip.jsv", "clip.dat" })
        {
            string path = Path.Combine(dir, name);
            File.Copy(Stream("pan_kodim01"), path);
            var stdout = new StringWriter();
            Assert.Equal(0, Program.Run(["check", path], stdout, new StringWriter()));
            Assert.Contains("valid, 2160 slices", stdout.ToString());
        }
    }

    [Fact]
    public void Check_avc_of_garbage_or_a_missing_file_exits_2()
    {
        string dir = TestPaths.NewTempDirectory();
        string input = Path.Combine(dir, "garbage.264");
        File.WriteAllBytes(input, [1, 2, 3, 4, 5]);
        Assert.Equal(2, Program.Run(["check", input], new StringWriter(), new StringWriter()));
        Assert.Equal(2, Program.Run(["check", Path.Combine(dir, "absent.264")], new StringWriter(), new StringWriter()));
        Assert.Equal(2, Program.Run(["check"], new StringWriter(), new StringWriter()));
    }
}
