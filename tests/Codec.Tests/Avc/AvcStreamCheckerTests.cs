using JpegLm.Codec.Avc;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Avc;

public class AvcStreamCheckerTests
{
    [Theory]
    [InlineData("pan_kodim01")]
    [InlineData("diag_kodim23")]
    public void Paper_setting_stream_is_valid_with_one_patch_per_macroblock(string name)
    {
        using FileStream fs = File.OpenRead(TestPaths.Data("avc", "x264", name + ".264"));
        AvcCheckResult r = AvcStreamChecker.Check(fs);
        Assert.True(r.Valid, string.Join("; ", r.Corrupt));
        Assert.Equal(15 * 16 * 9, r.PatchCount); // 15 frames of 16x9 macroblocks, one slice each
    }

    [Fact]
    public void Every_committed_conformance_stream_checks_valid()
    {
        foreach (var s in AvcTestStreams.ReadTsv(AvcTestStreams.CommittedConformanceDir))
        {
            using FileStream fs = File.OpenRead(s.File);
            AvcCheckResult r = AvcStreamChecker.Check(fs);
            Assert.True(r.Valid, $"{s.Name}: {string.Join("; ", r.Corrupt)}");
        }
    }

    [Fact]
    public void Damaged_slice_is_reported_with_its_patch_index_frame_and_first_macroblock()
    {
        string path = TestPaths.Data("avc", "x264", "pan_kodim05.264");
        byte[] data = File.ReadAllBytes(path);
        // Invert three bytes in the middle of a slice: its macroblock cannot parse.
        int at = data.Length / 2;
        Damage(data, at);
        AvcCheckResult r = AvcStreamChecker.Check(new MemoryStream(data));
        Assert.False(r.Valid);
        AvcSliceError first = r.Corrupt[0];
        Assert.InRange(first.ByteOffset, at - 200, at + 3);
        Assert.True(first.Frame >= 0);
        Assert.InRange(first.Slice, 0, r.PatchCount - 1);
        Assert.False(string.IsNullOrEmpty(first.Reason));
    }

    [Fact]
    public void Tolerant_decoding_conceals_a_damaged_slice_and_keeps_every_frame()
    {
        byte[] data = File.ReadAllBytes(TestPaths.Data("avc", "x264", "pan_kodim05.264"));
        Damage(data, data.Length / 2);
        var decoder = new AvcDecoder(new AvcDecoderOptions { Tolerant = true });
        int frames = decoder.Decode(new MemoryStream(data)).Count();
        Assert.Equal(15, frames);
        Assert.NotEmpty(decoder.Errors);
        Assert.Throws<AvcFormatException>(() => new AvcDecoder().Decode(new MemoryStream(data)).Count());
    }

    private static void Damage(byte[] data, int at)
    {
        for (int i = at; i < at + 3; i++)
        {
            data[i] ^= 0xFF;
        }
    }
}
