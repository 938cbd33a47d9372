using JpegLm.Codec.Imaging;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;
using static JpegLm.Cli.Tests.CliRun;

namespace JpegLm.Cli.Tests.Commands;

public class CheckCommandTests
{
    [Fact]
    public void A_valid_file_exits_0_and_prints_the_exact_json()
    {
        (int code, string output, _) = Run("check", TestPaths.Data("tokens", "paper-0.jpg"), "--json");
        Assert.Equal(0, code);
        Assert.Equal("{\"codec\":\"jpeg\",\"valid\":true,\"patchCount\":256,\"corrupt\":[]}", output.Trim());
    }

    [Fact]
    public void A_damaged_file_exits_1_and_lists_the_patch_and_offset()
    {
        string dir = TestPaths.NewTempDirectory();
        byte[] file = File.ReadAllBytes(TestPaths.Data("tokens", "paper-0.jpg"));
        string path = Path.Combine(dir, "bad.jpg");
        File.WriteAllBytes(path, file[..^300]);
        (int code, string output, _) = Run("check", path, "--json");
        Assert.Equal(1, code);
        Assert.StartsWith("{\"codec\":\"jpeg\",\"valid\":false,\"patchCount\":256,\"corrupt\":[{\"patch\":", output, StringComparison.Ordinal);
        Assert.Contains("\"offset\":", output, StringComparison.Ordinal);
        (code, output, _) = Run("check", path);
        Assert.Equal(1, code);
        Assert.Contains("patches corrupt", output, StringComparison.Ordinal);
        Assert.Contains("(missing)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_body_is_checked_under_a_profile_and_the_map_is_a_png()
    {
        string dir = TestPaths.NewTempDirectory();
        JpegProfile.Paper().Save(Path.Combine(dir, "p.json"));
        byte[] body = JpegProfile.Paper().ToTokenBytes(File.ReadAllBytes(TestPaths.Data("tokens", "paper-1.jpg")));
        File.WriteAllBytes(Path.Combine(dir, "body.bin"), body[..^200]);
        (int code, string output, string err) = Run("check", Path.Combine(dir, "body.bin"), "--profile", Path.Combine(dir, "p.json"), "--map", Path.Combine(dir, "map.png"));
        Assert.True(code == 1, output + err);
        PixelImage map = PngCodec.Read(File.ReadAllBytes(Path.Combine(dir, "map.png")));
        Assert.Equal(256, map.Width);
    }

    [Fact]
    public void Unreadable_input_and_usage_errors_exit_2()
    {
        Assert.Equal(2, Run("check", "/no/such/file.jpg").Code);
        Assert.Equal(2, Run("check").Code);
        string dir = TestPaths.NewTempDirectory();
        File.WriteAllBytes(Path.Combine(dir, "x.bin"), [1, 2, 3]);
        Assert.Equal(2, Run("check", Path.Combine(dir, "x.bin")).Code); // no SOI and no profile
        Assert.Equal(2, Run("check", Path.Combine(dir, "x.h264"), "--map", "m.png").Code);
    }

    [Fact]
    public void Bench_tokens_runs_on_the_committed_files()
    {
        (int code, string output, string err) = Run("bench", "tokens", TestPaths.Data("tokens"), "--vocab", "300", "--passes", "1");
        Assert.True(code == 0, err);
        Assert.Contains("MB/s", output, StringComparison.Ordinal);
        Assert.Contains("tokens/image", output, StringComparison.Ordinal);
    }
}
