using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Avc;

/// <summary>
/// Decodes ITU-T H.264.1 conformance streams and compares the MD5 of the whole output (all frames,
/// output order, cropped, raw yuv420p) with the MD5 listed in conformance.tsv.
/// </summary>
public class AvcConformanceTests
{
    public static TheoryData<string> CommittedStreams()
    {
        var data = new TheoryData<string>();
        foreach (var s in AvcTestStreams.ReadTsv(AvcTestStreams.CommittedConformanceDir))
        {
            data.Add(s.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CommittedStreams))]
    public void Committed_conformance_stream_decodes_to_its_md5(string name)
    {
        var s = AvcTestStreams.ReadTsv(AvcTestStreams.CommittedConformanceDir).Single(x => x.Name == name);
        var (md5, frames) = AvcTestStreams.DecodeMd5(s.File);
        Assert.True(s.Md5 == md5, $"{name}: decoded {frames} frames to MD5 {md5}, expected {s.Md5}");
    }

    [SkippableFact]
    public void All_29_shared_conformance_streams_decode_to_their_md5()
    {
        string? dir = AvcTestStreams.SharedConformanceDir;
        Skip.If(dir is null || !Directory.Exists(dir), "../shared/data/h264-conformance is absent: the full conformance set is only in this workplace");
        var failures = new List<string>();
        int count = 0;
        foreach (var s in AvcTestStreams.ReadTsv(dir!))
        {
            count++;
            try
            {
                var (md5, frames) = AvcTestStreams.DecodeMd5(s.File);
                if (md5 != s.Md5)
                {
                    failures.Add($"{s.Name}: {frames} frames, MD5 {md5} != {s.Md5}");
                }
            }
            catch (Codec.Avc.AvcFormatException e)
            {
                failures.Add($"{s.Name}: {e.Message}");
            }
        }

        Assert.Equal(29, count);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("pan_kodim01")]
    [InlineData("pan_kodim05")]
    [InlineData("diag_kodim23")]
    public void X264_paper_setting_stream_decodes_to_ffmpeg_md5(string name)
    {
        string dir = TestPaths.Data("avc", "x264");
        string expected = File.ReadAllText(Path.Combine(dir, name + ".md5")).Trim();
        var (md5, frames) = AvcTestStreams.DecodeMd5(Path.Combine(dir, name + ".264"));
        Assert.Equal(15, frames);
        Assert.Equal(expected, md5);
    }
}
