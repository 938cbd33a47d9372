using JpegLm.Codec.Avc;

namespace JpegLm.Codec.Tests.Avc;

public class CavlcTablesTests
{
    [Fact]
    public void Every_cavlc_table_is_a_prefix_free_code()
    {
        int tables = 0;
        foreach (var (length, code) in CavlcTables.AllTables())
        {
            tables++;
            var words = new List<string>();
            for (int i = 0; i < length.Length; i++)
            {
                if (length[i] > 0)
                {
                    words.Add(Convert.ToString(code[i], 2).PadLeft(length[i], '0'));
                }
            }

            double kraft = words.Sum(w => Math.Pow(2, -w.Length));
            Assert.True(kraft <= 1.0 + 1e-12, $"table {tables}: Kraft sum {kraft}");
            foreach (string a in words)
            {
                foreach (string b in words)
                {
                    Assert.False(!ReferenceEquals(a, b) && b.StartsWith(a, StringComparison.Ordinal), $"table {tables}: {a} is a prefix of {b}");
                }
            }
        }

        Assert.Equal(3 + 1 + 15 + 3 + 7, tables);
    }

    [Fact]
    public void Coeff_token_lookup_finds_the_shortest_codes()
    {
        // nC 0..1: "1" is TotalCoeff 0; "01" is TotalCoeff 1 with one trailing one (Table 9-5).
        ushort zero = CavlcTables.CoeffTokenEntry(0, 0b1u << 15);
        Assert.Equal(1, zero & 0xFF);
        Assert.Equal(0, zero >> 8);
        ushort one = CavlcTables.CoeffTokenEntry(0, 0b01u << 14);
        Assert.Equal(2, one & 0xFF);
        Assert.Equal((1 * 4) + 1, one >> 8);
    }

    [Fact]
    public void Coeff_token_lookup_matches_the_code_tables_for_every_16_bit_peek()
    {
        for (int t = 0; t < 4; t++)
        {
            (byte[] length, byte[] code) = CavlcTables.CoeffTokenTable(t);
            for (uint peek = 0; peek < 1u << 16; peek++)
            {
                ushort expected = 0;
                for (int symbol = 0; symbol < length.Length; symbol++)
                {
                    if (length[symbol] != 0 && peek >> (16 - length[symbol]) == code[symbol])
                    {
                        expected = (ushort)((symbol << 8) | length[symbol]);
                    }
                }

                Assert.True(expected == CavlcTables.CoeffTokenEntry(t, peek), $"table {t}, peek {peek:X4}");
            }
        }
    }
}
