using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>
/// The ZRL rule (T.81: a ZRL leads up to a non-zero coefficient of its block, so EOB codes trailing
/// zeros alone): the incremental state, the batch checker and the strict decoder refuse the same streams,
/// and the tolerant decoder greys the same interval.
/// </summary>
public class JpegZeroRunRuleTests
{
    // Issue 14: DC category 3, ZRL, ZRL, run 14 / size 1 (coefficient 47), then a ZRL that takes k to 64.
    private static readonly byte[] IssueStream = [0x83, 0xFC, 0xFF, 0x00, 0x9F, 0xFE, 0xBF, 0xF9];

    // One grey block: DC category 0 (00), EOB (1010), padding 11.
    private const byte FlatBlock = 0x2B;

    [Fact]
    public void The_issue_stream_is_refused_by_the_state_at_the_last_zrl_with_the_zrl_reason()
    {
        JpegProfile grey = JpegProfile.FashionMnist();
        var state = new JpegScanState(grey.TokenGrammar());
        int refusedAt = -1;
        for (int i = 0; i < IssueStream.Length && refusedAt < 0; i++)
        {
            if (!state.Consume(IssueStream[i]))
            {
                refusedAt = i;
            }
        }

        // The last ZRL's code starts in byte 6 (BF): its 8-one prefix can only be a ZRL or a long run there.
        Assert.InRange(refusedAt, 6, 7);
        Assert.Equal(JpegScanError.ZeroRunWithoutCoefficient, state.Error);

        // Everything before that ZRL is fine and can still be finished.
        var before = new JpegScanState(grey.TokenGrammar());
        foreach (byte b in IssueStream.AsSpan(0, 6))
        {
            Assert.True(before.Consume(b));
        }

        Assert.True(before.ShortestCompletion() > 0);
        Span<ulong> mask = stackalloc ulong[4];
        before.FillAllowedMask(mask);
        Assert.NotEqual(0UL, mask[0] | mask[1] | mask[2] | mask[3]);
    }

    [Fact]
    public void Checker_strict_decoder_and_tolerant_decoder_agree_on_the_issue_stream()
    {
        JpegProfile grey = JpegProfile.FashionMnist();
        // libjpeg would end the block at 64 here, so the rest is laid out as if it had: RST0, then 15 flat blocks.
        byte[] file = grey.FromTokenBytes(WithFlatIntervals(IssueStream, 1, 16));
        JpegScanReport report = JpegScanChecker.CheckFile(file, grey.HuffmanSpecs());
        Assert.False(report.IsValid);
        Assert.Equal(JpegScanError.ZeroRunWithoutCoefficient, report.Issues[0].Error);
        Assert.Equal(0, report.Issues[0].Patch);
        Assert.Equal(JpegPatchStatus.Corrupt, report.Patches[0]);
        Assert.All(report.Patches.Skip(1), p => Assert.Equal(JpegPatchStatus.Ok, p));

        var options = new JpegDecoderOptions { Tables = grey.TablesStream() };
        JpegFormatException e = Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(file, options));
        Assert.Contains("ZRL", e.Message, StringComparison.Ordinal);

        JpegDecodeResult tolerant = JpegDecoder.DecodeDetailed(file, new JpegDecoderOptions { Tables = grey.TablesStream(), Tolerant = true });
        JpegCorruptInterval bad = Assert.Single(tolerant.CorruptIntervals);
        Assert.Equal(0, bad.FirstMcu);
    }

    [Fact]
    public void A_zrl_with_room_for_its_coefficient_is_accepted_by_all_three_and_eob_after_zrl_by_none()
    {
        JpegProfile grey = JpegProfile.FashionMnist();
        JpegScanGrammar g = grey.TokenGrammar();
        var options = new JpegDecoderOptions { Tables = grey.TablesStream() };

        // DC 0, ZRL x2 (k = 33), ZRL (k = 49) ... is refused; DC 0, ZRL x2, 13/1 (k = 47), ZRL (k = 63), 0/1 at 63: accepted.
        string ok = "00" + Zrl + Zrl + Code(0xD1) + "1" + Zrl + Code(0x01) + "1";
        string eobAfterZrl = "00" + Zrl + Eob;
        string zrlTooLate = "00" + Zrl + Zrl + Code(0xE1) + "1" + Zrl + Eob;

        foreach ((string bits, bool valid) in new[] { (ok, true), (eobAfterZrl, false), (zrlTooLate, false) })
        {
            byte[] block = Pack(bits);
            byte[] tokens = WithFlatIntervals(block, 1, 16);
            bool stateOk = Feed(g, tokens);
            bool checkerOk = JpegScanChecker.CheckFile(grey.FromTokenBytes(tokens), grey.HuffmanSpecs()).IsValid;
            bool decoderOk = true;
            try
            {
                JpegDecoder.Decode(grey.FromTokenBytes(tokens), options);
            }
            catch (JpegFormatException)
            {
                decoderOk = false;
            }

            Assert.Equal((valid, valid, valid), (stateOk, checkerOk, decoderOk));
        }
    }

    private static string Zrl => Code(0xF0);

    private static string Eob => Code(0x00);

    // The Annex K luminance AC code of a symbol, as a bit string.
    private static string Code(int symbol)
    {
        ReadOnlySpan<byte> bits = JpegTables.LuminanceAcBits, values = JpegTables.LuminanceAcValues;
        int code = 0, v = 0;
        for (int length = 1; length <= 16; length++)
        {
            for (int i = 0; i < bits[length - 1]; i++, v++, code++)
            {
                if (values[v] == symbol)
                {
                    return Convert.ToString(code, 2).PadLeft(length, '0');
                }
            }

            code <<= 1;
        }

        throw new ArgumentException("no such symbol", nameof(symbol));
    }

    // Bits to bytes, 1-padded, FF stuffed.
    private static byte[] Pack(string bits)
    {
        bits = bits.PadRight((bits.Length + 7) / 8 * 8, '1');
        var bytes = new List<byte>();
        for (int i = 0; i < bits.Length; i += 8)
        {
            byte b = Convert.ToByte(bits.Substring(i, 8), 2);
            bytes.Add(b);
            if (b == 0xFF)
            {
                bytes.Add(0);
            }
        }

        return [.. bytes];
    }

    // `first` as interval 0, then flat one-block intervals up to `intervals`, with their RST markers.
    private static byte[] WithFlatIntervals(byte[] first, int mcusPerInterval, int intervals)
    {
        var b = new List<byte>(first);
        for (int i = 1; i < intervals; i++)
        {
            b.AddRange([0xFF, (byte)(0xD0 + ((i - 1) & 7))]);
            for (int m = 0; m < mcusPerInterval; m++)
            {
                b.Add(FlatBlock);
            }
        }

        return [.. b];
    }

    private static bool Feed(JpegScanGrammar g, byte[] tokens)
    {
        var s = new JpegScanState(g);
        foreach (byte b in tokens)
        {
            if (!s.Consume(b))
            {
                return false;
            }
        }

        return s.IsComplete;
    }
}
