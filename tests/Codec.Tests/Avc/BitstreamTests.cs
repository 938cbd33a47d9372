using JpegLm.Codec.Avc;
using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Tests.Avc;

public class BitstreamTests
{
    [Theory]
    [InlineData("00000000", 254, false)]          // 8 zeros: at least 255 whatever follows
    [InlineData("00000000", 255, true)]           // 255 itself may still come
    [InlineData("00000001", 126, false)]          // 7 zeros, a 1, 7 bits to come: at least 127
    [InlineData("00000001", 127, true)]
    [InlineData("0000000000000001", 30000, false)] // 15 zeros then 1: at least 32767
    [InlineData("0000000000000001", 40000, true)]
    public void A_cut_short_ue_fails_as_out_of_range_only_when_no_completion_fits(string bits, int max, bool mayFit)
    {
        var r = new RbspReader(Pack(bits)) { MayContinue = true };
        var e = Assert.Throws<AvcFormatException>(() => r.ReadUe("x", max));
        Assert.Equal(mayFit, e.Reason == RbspReader.PastEndReason);
    }

    [Fact]
    public void Exp_golomb_codes_of_clause_9_1_decode()
    {
        // 1 | 010 | 011 | 00100 | 00111 | 0001000  =>  ue 0,1,2,3,6,7 ; then se of 00101 (codeNum 4) = -2.
        var bits = "1" + "010" + "011" + "00100" + "00111" + "0001000" + "00101" + "1";
        var r = new RbspReader(Pack(bits));
        Assert.Equal(0u, r.ReadUe());
        Assert.Equal(1u, r.ReadUe());
        Assert.Equal(2u, r.ReadUe());
        Assert.Equal(3u, r.ReadUe());
        Assert.Equal(6u, r.ReadUe());
        Assert.Equal(7u, r.ReadUe());
        Assert.Equal(-2, r.ReadSe());
        Assert.False(r.MoreRbspData());
        Assert.True(r.TrailingBitsAreValid());
    }

    [Fact]
    public void Signed_exp_golomb_alternates_sign()
    {
        var r = new RbspReader(Pack("010" + "011" + "00100" + "1"));
        Assert.Equal(1, r.ReadSe());
        Assert.Equal(-1, r.ReadSe());
        Assert.Equal(2, r.ReadSe());
    }

    [Fact]
    public void Truncated_te_reads_one_inverted_bit_when_range_is_one()
    {
        var r = new RbspReader(Pack("1" + "0" + "1"));
        Assert.Equal(0, r.ReadTe(1));
        Assert.Equal(1, r.ReadTe(1));
    }

    [Fact]
    public void Reading_past_the_end_throws_a_typed_error()
    {
        var r = new RbspReader([0x80]);
        r.ReadBits(8);
        Assert.Throws<AvcFormatException>(() => r.ReadBits(1));
        var zeros = new RbspReader(new byte[8]);
        Assert.Throws<AvcFormatException>(() => zeros.ReadUe());
    }

    [Fact]
    public void Emulation_prevention_bytes_are_removed()
    {
        byte[] nal = [0x65, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x00, 0x03];
        var rbsp = new byte[nal.Length];
        int n = AnnexBReader.RemoveEmulationPrevention(nal, rbsp);
        Assert.Equal(new byte[] { 0x65, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03 }, rbsp[..n]);
    }

    [Fact]
    public void Annex_b_stream_splits_into_nal_units_across_start_code_forms()
    {
        byte[] stream = [0x00, 0x00, 0x00, 0x01, 0x67, 0xAA, 0x00, 0x00, 0x01, 0x68, 0xBB, 0x00, 0x00, 0x00, 0x00, 0x01, 0x65, 0x00, 0x00, 0x03, 0x01, 0x00];
        var reader = new AnnexBReader(new MemoryStream(stream));
        var units = new List<byte[]>();
        while (reader.TryRead(out ReadOnlySpan<byte> nal))
        {
            units.Add(nal.ToArray());
        }

        Assert.Equal(3, units.Count);
        Assert.Equal(new byte[] { 0x67, 0xAA }, units[0]);
        Assert.Equal(new byte[] { 0x68, 0xBB }, units[1]);
        Assert.Equal(new byte[] { 0x65, 0x00, 0x00, 0x01 }, units[2]);
    }

    private static byte[] Pack(string bits)
    {
        var bytes = new byte[(bits.Length + 7) / 8];
        for (int i = 0; i < bits.Length; i++)
        {
            if (bits[i] == '1')
            {
                bytes[i / 8] |= (byte)(0x80 >> (i % 8));
            }
        }

        return bytes;
    }
}
