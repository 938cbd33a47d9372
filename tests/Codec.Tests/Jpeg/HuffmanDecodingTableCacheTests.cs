using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Tests.Jpeg;

public class HuffmanDecodingTableCacheTests
{
    [Fact]
    public void Identical_definitions_share_one_table_and_different_ones_do_not()
    {
        HuffmanDecodingTable a = HuffmanDecodingTable.Get(JpegTables.LuminanceAcBits, JpegTables.LuminanceAcValues, false, 0);
        HuffmanDecodingTable b = HuffmanDecodingTable.Get(JpegTables.LuminanceAcBits.ToArray(), JpegTables.LuminanceAcValues.ToArray(), false, 0);
        HuffmanDecodingTable chroma = HuffmanDecodingTable.Get(JpegTables.ChrominanceAcBits, JpegTables.ChrominanceAcValues, false, 0);
        Assert.Same(a, b);
        Assert.NotSame(a, chroma);

        // The same bytes as a DC table would be validated (and rejected) as DC, not served from the cache.
        Assert.Throws<JpegFormatException>(() => HuffmanDecodingTable.Get(JpegTables.LuminanceAcBits, JpegTables.LuminanceAcValues, true, 0));
    }

    [Fact]
    public void A_bad_definition_is_rejected_every_time()
    {
        byte[] bits = new byte[16];
        bits[0] = 3; // three 1-bit codes cannot exist
        byte[] values = [1, 2, 3];
        Assert.Throws<JpegFormatException>(() => HuffmanDecodingTable.Get(bits, values, true, 0));
        Assert.Throws<JpegFormatException>(() => HuffmanDecodingTable.Get(bits, values, true, 0));
    }
}
