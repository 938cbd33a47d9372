using JpegLm.Codec.Avc;
using JpegLm.Codec.Bitstream;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Avc;

public class AvcStreamValidatorTests
{
    private static byte[] Stream(string name = "pan_kodim01") => File.ReadAllBytes(TestPaths.Data("avc", "x264", name + ".264"));

    // Feeds data[start..] in seeded chunks of 1..9 bytes; returns the offset of the refused chunk's end, or -1
    // when everything was accepted and the stream could end.
    private static int Feed(AvcStreamValidator v, byte[] data, int start, int seed)
    {
        var rng = new Random(seed);
        int at = start;
        while (at < data.Length)
        {
            int n = Math.Min(data.Length - at, rng.Next(1, 10));
            if (!v.TryAppend(data.AsSpan(at, n)))
            {
                return at + n;
            }

            at += n;
        }

        return v.TryEnd() ? -1 : data.Length;
    }

    [Fact]
    public void A_valid_stream_is_accepted_chunk_by_chunk_to_its_end()
    {
        byte[] data = Stream();
        int header = AvcProfile.ParameterSetsLength(data);
        var v = new AvcStreamValidator(data.AsSpan(0, header));
        Assert.Equal(-1, Feed(v, data, header, seed: 1));
        Assert.Equal(15, v.Pictures);
        Assert.Equal(data.Length, v.Length);
        Assert.True(v.Bytes.SequenceEqual(data));
    }

    [Fact]
    public void Accepting_a_damaged_stream_to_its_end_agrees_with_the_checker()
    {
        byte[] clean = Stream("diag_kodim23");
        int header = AvcProfile.ParameterSetsLength(clean);
        var rng = new Random(7);
        int agreeValid = 0, agreeInvalid = 0;
        for (int trial = 0; trial < 40; trial++)
        {
            byte[] data = Mutate(clean, header, rng);
            bool checker;
            try
            {
                checker = AvcStreamChecker.Check(new MemoryStream(data)).Valid;
            }
            catch (AvcFormatException)
            {
                checker = false; // unreadable (e.g. a damaged parameter set)
            }

            var v = new AvcStreamValidator(data.AsSpan(0, header), new AvcValidatorOptions { SlicesOnly = false });
            bool validator = Feed(v, data, header, seed: trial) < 0;
            Assert.True(checker == validator, $"trial {trial}: checker says {checker}, validator {validator} ({v.LastRefusal})");
            _ = checker ? agreeValid++ : agreeInvalid++;
        }

        Assert.True(agreeInvalid >= 10, $"only {agreeInvalid} of 40 mutations were invalid");
    }

    [Fact]
    public void A_refused_append_leaves_the_state_as_it_was()
    {
        byte[] data = Stream();
        int header = AvcProfile.ParameterSetsLength(data);
        var v = new AvcStreamValidator(data.AsSpan(0, header));
        int half = data.Length / 2;
        Assert.True(v.TryAppend(data.AsSpan(header, half - header)));

        // A garbage unit: start code, a P-slice header byte, then bytes no slice header can start with, then a start code.
        byte[] garbage = [0, 0, 0, 1, 0x41, 0x00, 0x00, 0x03, 0x00, 0x00, 0x01];
        int pending = v.PendingNalStart;
        v.Truncate(pending);
        Assert.False(v.TryAppend(garbage));
        Assert.NotNull(v.LastRefusal);
        Assert.Equal(pending, v.Length);

        // The real continuation is still accepted.
        Assert.Equal(-1, Feed(v, data, pending, seed: 3));
        Assert.True(v.Bytes.SequenceEqual(data));
    }

    [Fact]
    public void A_missing_slice_is_refused_and_the_checker_reports_the_uncovered_macroblocks()
    {
        byte[] clean = Stream();
        int header = AvcProfile.ParameterSetsLength(clean);
        List<int> starts = StartCodes(clean, header);
        int drop = (144 * 4) + 70; // slice 70 of the fifth picture (one macroblock per slice)
        byte[] data = [.. clean.AsSpan(0, starts[drop]), .. clean.AsSpan(starts[drop + 1])];

        AvcCheckResult report = AvcStreamChecker.Check(new MemoryStream(data));
        Assert.False(report.Valid);
        AvcSliceError missing = Assert.Single(report.Corrupt);
        Assert.Equal(-1, missing.Slice);
        Assert.Contains("1 of 144 macroblocks missing", missing.Reason, StringComparison.Ordinal);

        var v = new AvcStreamValidator(data.AsSpan(0, header));
        Assert.True(Feed(v, data, header, seed: 5) > 0);
        Assert.Contains("missing", v.LastRefusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Picture_limit_and_end_rules()
    {
        byte[] data = Stream();
        int header = AvcProfile.ParameterSetsLength(data);
        var v = new AvcStreamValidator(data.AsSpan(0, header), new AvcValidatorOptions { MaxPictures = 3 });
        Assert.False(v.TryEnd()); // no picture yet
        int refusedAt = Feed(v, data, header, seed: 9);
        Assert.True(refusedAt > 0);
        Assert.Contains("more than 3 pictures", v.LastRefusal, StringComparison.Ordinal);
        Assert.Equal(3, v.Pictures);

        // Back up to the unfinished unit (the first slice of picture 4 is not written yet): three whole pictures may end.
        v.Truncate(v.PendingNalStart);
        Assert.True(v.TryEnd());
        Assert.Equal(3, new AvcDecoder().Decode(new MemoryStream(v.Bytes.ToArray())).Count());
        Assert.Throws<InvalidOperationException>(() => v.TryAppend([0]));
    }

    [Fact]
    public void A_stream_may_not_end_right_after_a_start_code_which_the_checker_calls_cut()
    {
        byte[] data = Stream();
        int header = AvcProfile.ParameterSetsLength(data);
        var v = new AvcStreamValidator(data.AsSpan(0, header), new AvcValidatorOptions { MaxPictures = 1 });
        Assert.True(Feed(v, data, header, seed: 9) > 0); // refused when the second picture completes a unit
        v.Truncate(v.PendingNalStart);
        int whole = v.Length;
        Assert.True(v.TryAppend([0, 0, 0, 1]));
        Assert.False(v.TryEnd());
        Assert.Equal(AnnexBStartCodes.EndsAfterStartCode, v.LastRefusal);
        Assert.Throws<AvcFormatException>(() => AvcStreamChecker.Check(new MemoryStream(v.Bytes.ToArray())));

        v.Truncate(whole);
        Assert.True(v.TryEnd());
    }

    [Fact]
    public void Invalid_initial_bytes_are_a_typed_error()
    {
        byte[] data = Stream();
        int header = AvcProfile.ParameterSetsLength(data);
        byte[] broken = [.. data.AsSpan(0, header)];
        Assert.Equal(0x67, broken[4]);
        broken[4] ^= 0x80; // the SPS's forbidden_zero_bit
        Assert.Throws<AvcFormatException>(() => new AvcStreamValidator(broken));
    }

    [Fact]
    public void A_stream_that_starts_with_a_P_picture_decodes_with_stand_in_references_of_the_right_size()
    {
        // Found by sampling: a generated stream whose first picture is a P picture after a frame_num gap made
        // 16x16 stand-in references, and a motion vector into them ran off the plane.
        AvcProfile profile = AvcProfile.Create("t", 32, 32, fps: 3, frames: 4, qp: 30, refs: 1, sliceMaxMbs: 1);
        byte[] data = AvcTestClips.Encode(profile, 4, (f, frame) =>
        {
            for (int i = 0; i < frame.Y.Length; i++)
            {
                frame.Y[i] = (byte)(((i % 32) + (3 * f)) * 6);
            }

            for (int i = 0; i < frame.U.Length; i++)
            {
                frame.U[i] = (byte)((i * 11) + (f * 40));
            }
        });
        int header = AvcProfile.ParameterSetsLength(data);
        List<int> starts = StartCodes(data, header);
        int second = starts[4]; // 4 one-macroblock slices per picture: drop the IDR picture
        byte[] cut = [.. data.AsSpan(0, header), .. data.AsSpan(second)];
        var decoder = new AvcDecoder(new AvcDecoderOptions { Tolerant = true });
        Assert.Equal(3, decoder.Decode(new MemoryStream(cut)).Count());
    }

    // Offsets of every 00 00 01 (x264 writes 4-byte codes only before a picture's first unit).
    private static List<int> StartCodes(byte[] d, int from)
    {
        var list = new List<int>();
        for (int i = from; i + 2 < d.Length; i++)
        {
            if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1)
            {
                list.Add(i);
                i += 2;
            }
        }

        return list;
    }

    private static byte[] Mutate(byte[] clean, int header, Random rng)
    {
        var d = new List<byte>(clean);
        int at = rng.Next(header, clean.Length - 1);
        switch (rng.Next(4))
        {
            case 0:
                d[at] ^= (byte)(1 << rng.Next(8));
                break;
            case 1:
                d[at] = (byte)rng.Next(256);
                break;
            case 2:
                d.RemoveAt(at);
                break;
            default:
                d.Insert(at, (byte)rng.Next(256));
                break;
        }

        return [.. d];
    }
}
