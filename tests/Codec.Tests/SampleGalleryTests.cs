using JpegLm.Codec.Avc;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;
using Xunit.Abstractions;

namespace JpegLm.Codec.Tests;

/// <summary>
/// The model samples committed under docs/samples: every JPEG passes our checker and decodes in
/// <c>djpeg -strict</c> without a word; every video passes our checker and decodes in
/// <c>ffmpeg -xerror -err_detect explode</c> without an error, with as many frames as our decoder finds.
/// </summary>
public class SampleGalleryTests(ITestOutputHelper output)
{
    private static string Gallery => Path.Combine(TestPaths.RepoRoot, "docs", "samples");

    [Fact]
    public void The_gallery_holds_jpegs_and_videos_that_our_checker_accepts()
    {
        string[] jpegs = Directory.GetFiles(Gallery, "*.jpg");
        string[] videos = Directory.GetFiles(Gallery, "*.h264");
        Assert.True(jpegs.Length >= 4 && videos.Length >= 3, $"{jpegs.Length} jpegs, {videos.Length} videos");
        foreach (string f in jpegs)
        {
            Assert.True(JpegScanChecker.CheckFile(File.ReadAllBytes(f)).IsValid, f);
        }

        foreach (string f in videos)
        {
            AvcCheckResult check = AvcStreamChecker.Check(new MemoryStream(File.ReadAllBytes(f)));
            Assert.True(check.Valid && check.PatchCount > 0, f);
            List<Yuv420Frame> frames = [.. new AvcDecoder().Decode(new MemoryStream(File.ReadAllBytes(f)))];
            Assert.NotEmpty(frames);
        }
    }

    /// <summary>
    /// docs/quality/fmnist holds every sample of the quality study's run (1,000 unconditional, 200 completions):
    /// the validity quoted there is djpeg's, so every one must decode in <c>djpeg -strict</c> without a word.
    /// </summary>
    [SkippableFact]
    public void Djpeg_strict_decodes_every_committed_quality_sample()
    {
        Skip.If(OutsideDecoders.DjpegMissing != null, OutsideDecoders.DjpegMissing);
        string study = Path.Combine(TestPaths.RepoRoot, "docs", "quality", "fmnist");
        string[] files = [.. Directory.GetFiles(Path.Combine(study, "unconditional"), "*.jpg"), .. Directory.GetFiles(Path.Combine(study, "completions"), "*.jpg")];
        Assert.Equal(1200, files.Length);
        int clean = 0;
        foreach (string f in files)
        {
            OutsideVerdict v = OutsideDecoders.Djpeg(f);
            Assert.True(v.Clean, $"{f}: {v.Stderr}");
            clean++;
        }

        output.WriteLine($"{clean}/{files.Length} clean in djpeg -strict");
    }

    [SkippableFact]
    public void Djpeg_strict_decodes_every_gallery_jpeg()
    {
        Skip.If(OutsideDecoders.DjpegMissing != null, OutsideDecoders.DjpegMissing);
        foreach (string f in Directory.GetFiles(Gallery, "*.jpg").Order())
        {
            OutsideVerdict v = OutsideDecoders.Djpeg(f);
            output.WriteLine($"{Path.GetFileName(f)}: djpeg -strict exit {v.ExitCode} {v.Stderr.Trim()}");
            Assert.True(v.Clean, $"{f}: {v.Stderr}");
        }
    }

    [SkippableFact]
    public void Ffmpeg_decodes_every_gallery_video_with_all_its_frames()
    {
        Skip.If(OutsideDecoders.FfmpegMissing != null, OutsideDecoders.FfmpegMissing);
        foreach (string f in Directory.GetFiles(Gallery, "*.h264").Order())
        {
            OutsideVerdict v = OutsideDecoders.Ffmpeg(f);
            int ours = new AvcDecoder().Decode(new MemoryStream(File.ReadAllBytes(f))).Count();
            output.WriteLine($"{Path.GetFileName(f)}: ffmpeg exit {v.ExitCode}, {v.Frames} frames (ours {ours}) {v.Stderr.Trim()}");
            Assert.True(v.Clean, $"{f}: {v.Stderr}");
            Assert.Equal(ours, v.Frames);
        }
    }
}
