using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>
/// Tolerant mode on cj_restart_mcu_q25.jpg (96x80, 4:2:0, a restart marker after every 16x16 MCU,
/// 6x5 MCUs): damaged intervals are reported, painted grey, and decoding resumes at the next RST.
/// </summary>
public class JpegDecoderTolerantTests
{
    private const string File = "cj_restart_mcu_q25.jpg";
    private static readonly JpegDecoderOptions Tolerant = new() { Tolerant = true };

    [Fact]
    public void Clean_stream_has_no_corrupt_intervals_and_identical_pixels()
    {
        JpegDecodeResult r = JpegDecoder.DecodeDetailed(JpegGoldenFiles.Read(File), Tolerant);
        Assert.Empty(r.CorruptIntervals);
        Assert.Equal(JpegGoldenFiles.Get(File).Sha256, JpegGoldenFiles.Sha256(r.Image.Pixels));
        Assert.Equal(1, r.Frame.RestartInterval);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(0)]
    [InlineData(29)]
    public void Garbage_in_one_interval_is_reported_and_grey_and_the_rest_is_intact(int interval)
    {
        byte[] jpeg = JpegGoldenFiles.Read(File);
        (int start, int end) = IntervalBytes(jpeg, interval);
        byte[] bad = (byte[])jpeg.Clone();
        for (int i = start; i < end; i++)
        {
            bad[i] = 0xFE;
        }

        Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(bad));
        JpegDecodeResult r = JpegDecoder.DecodeDetailed(bad, Tolerant);
        JpegCorruptInterval c = Assert.Single(r.CorruptIntervals);
        Assert.Equal((interval, 1), (c.FirstMcu, c.McuCount));
        Assert.InRange(c.ByteOffset, start, end + 2);
        AssertGreyAndIntactElsewhere(r.Image, JpegDecoder.Decode(jpeg), [interval]);
    }

    [Fact]
    public void Inserted_bytes_desynchronize_one_interval_only()
    {
        byte[] jpeg = JpegGoldenFiles.Read(File);
        (int start, _) = IntervalBytes(jpeg, 12);
        byte[] bad = [.. jpeg[..(start + 3)], 0x12, 0x34, 0x56, 0x00, 0x9A, .. jpeg[(start + 3)..]];
        JpegDecodeResult r = JpegDecoder.DecodeDetailed(bad, Tolerant);
        JpegCorruptInterval c = Assert.Single(r.CorruptIntervals);
        Assert.Equal(12, c.FirstMcu);
        AssertGreyAndIntactElsewhere(r.Image, JpegDecoder.Decode(jpeg), [12]);
    }

    [Fact]
    public void A_restart_marker_damaged_into_a_segment_marker_is_skipped_not_parsed()
    {
        // An RSTn whose second byte became C0 looks like SOF0 inside the scan; tolerant mode must resync.
        byte[] jpeg = JpegGoldenFiles.Read(File);
        (_, int end) = IntervalBytes(jpeg, 10);
        int rst = end;
        while (!(jpeg[rst] == 0xFF && jpeg[rst + 1] is >= 0xD0 and <= 0xD7))
        {
            rst++;
        }

        byte[] bad = (byte[])jpeg.Clone();
        bad[rst + 1] = 0xC0;
        Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(bad));
        JpegDecodeResult r = JpegDecoder.DecodeDetailed(bad, Tolerant);
        Assert.NotEmpty(r.CorruptIntervals);
        Assert.All(r.CorruptIntervals, c => Assert.InRange(c.FirstMcu, 10, 11));
        Assert.Equal((96, 80), (r.Image.Width, r.Image.Height));
    }

    [Fact]
    public void Lost_restart_markers_resynchronize_by_marker_number()
    {
        // Delete the data of intervals 10 and 11 together with their RST markers: RST11 follows interval 9.
        byte[] jpeg = JpegGoldenFiles.Read(File);
        (int start10, _) = IntervalBytes(jpeg, 10);
        (int start12, _) = IntervalBytes(jpeg, 12);
        byte[] bad = [.. jpeg[..start10], .. jpeg[start12..]];
        Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(bad));
        JpegDecodeResult r = JpegDecoder.DecodeDetailed(bad, Tolerant);
        JpegCorruptInterval c = Assert.Single(r.CorruptIntervals);
        Assert.Equal((10, 2), (c.FirstMcu, c.McuCount));
        AssertGreyAndIntactElsewhere(r.Image, JpegDecoder.Decode(jpeg), [10, 11]);
    }

    [Fact]
    public void Missing_tail_is_reported_and_grey()
    {
        byte[] jpeg = JpegGoldenFiles.Read(File);
        (int start20, _) = IntervalBytes(jpeg, 20);
        byte[] cut = jpeg[..(start20 + 5)];
        Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(cut));
        JpegDecodeResult r = JpegDecoder.DecodeDetailed(cut, Tolerant);
        Assert.Equal(20, r.CorruptIntervals[0].FirstMcu);
        Assert.Equal(10, r.CorruptIntervals.Sum(c => c.McuCount));
        Assert.Contains(r.CorruptIntervals, c => c.Reason.Contains("missing tail"));
        AssertGreyAndIntactElsewhere(r.Image, JpegDecoder.Decode(jpeg), [.. Enumerable.Range(20, 10)]);
    }

    [Fact]
    public void Without_restart_markers_the_image_is_grey_from_the_damaged_MCU_on()
    {
        byte[] jpeg = JpegGoldenFiles.Read("cj_q75.jpg");
        (byte _, int sos, int sosLength) = JpegStreamEditing.Segments(jpeg).Single(s => s.Marker == 0xDA);
        byte[] bad = (byte[])jpeg.Clone();
        int at = sos + sosLength + ((jpeg.Length - sos) / 2);
        bad.AsSpan(at, 40).Fill(0xFE);
        JpegDecodeResult r = JpegDecoder.DecodeDetailed(bad, Tolerant);
        JpegCorruptInterval c = Assert.Single(r.CorruptIntervals);
        Assert.Equal(17 * 9, c.FirstMcu + c.McuCount);
        Assert.InRange(c.FirstMcu, 20, 150);
        Assert.Equal(r.Image.Pixels[^3..], new byte[] { 128, 128, 128 });
    }

    /// <summary>Byte range of the entropy data of restart interval <paramref name="n"/> (between RSTn−1 and RSTn).</summary>
    private static (int Start, int End) IntervalBytes(byte[] jpeg, int n)
    {
        (byte _, int sos, int sosLength) = JpegStreamEditing.Segments(jpeg).Single(s => s.Marker == 0xDA);
        var boundaries = new List<int> { sos + sosLength };
        for (int i = sos + sosLength; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] is >= 0xD0 and <= 0xD9)
            {
                boundaries.Add(i);
            }
        }

        int start = n == 0 ? boundaries[0] : boundaries[n] + 2;
        return (start, boundaries[n + 1]);
    }

    /// <summary>Checks MCUs in <paramref name="grey"/> are mid-grey inside (fancy upsampling blends 1–2 pixels at their border) and MCUs not touching them equal the clean decode.</summary>
    private static void AssertGreyAndIntactElsewhere(PixelImage actual, PixelImage clean, int[] grey)
    {
        const int mcusWide = 6;
        for (int y = 0; y < actual.Height; y++)
        {
            for (int x = 0; x < actual.Width; x++)
            {
                int mx = x / 16, my = y / 16, mcu = (my * mcusWide) + mx;
                int i = ((y * actual.Width) + x) * 3;
                if (grey.Contains(mcu) && x % 16 is >= 2 and < 14 && y % 16 is >= 2 and < 14)
                {
                    Assert.True(actual.Pixels[i] == 128 && actual.Pixels[i + 1] == 128 && actual.Pixels[i + 2] == 128, $"pixel ({x},{y}) of damaged MCU {mcu} is not grey");
                }

                bool nearDamage = grey.Any(g => Math.Abs((g / mcusWide) - my) <= 1 && Math.Abs((g % mcusWide) - mx) <= 1);
                if (!nearDamage)
                {
                    Assert.True(actual.Pixels.AsSpan(i, 3).SequenceEqual(clean.Pixels.AsSpan(i, 3)), $"pixel ({x},{y}) of intact MCU {mcu} differs from the clean decode");
                }
            }
        }
    }
}
