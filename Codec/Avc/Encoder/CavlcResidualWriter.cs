using System.Runtime.CompilerServices;
using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Avc.Encoder;

/// <summary>
/// Writes residual_block_cavlc() (clause 7.3.5.3.2, semantics 9.2): coeff_token, trailing-one signs,
/// level_prefix/level_suffix, total_zeros and run_before. The code words come from the decoder's
/// <see cref="CavlcTables"/> lookups, inverted once, so the two sides cannot disagree on a table.
/// </summary>
[SkipLocalsInit]
internal static class CavlcResidualWriter
{
    // (length, code) per symbol, [table][symbol]: coeff_token straight from the code tables the decoder's lookups
    // are built from, the others inverted from the decoder's peek tables.
    private static readonly (byte[] Length, ushort[] Code)[] CoeffToken = [.. Enumerable.Range(0, 4).Select(t =>
    {
        (byte[] length, byte[] code) = CavlcTables.CoeffTokenTable(t);
        return (length, Array.ConvertAll(code, c => (ushort)c));
    })];
    private static readonly (byte[] Length, ushort[] Code)[] TotalZeros = Invert(CavlcTables.TotalZeros, CavlcTables.ZerosBits, 16);
    private static readonly (byte[] Length, ushort[] Code)[] ChromaDcTotalZeros = Invert(CavlcTables.ChromaDcTotalZeros, CavlcTables.ZerosBits, 4);
    private static readonly (byte[] Length, ushort[] Code)[] RunBefore = Invert(CavlcTables.RunBefore, CavlcTables.ZerosBits, 15);

    /// <summary>
    /// Writes one block whose levels are given in scan order (<paramref name="levels"/>, length
    /// <paramref name="maxNumCoeff"/>). <paramref name="nC"/> is -1 for chroma DC. Returns TotalCoeff.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Write(RbspWriter w, int nC, ReadOnlySpan<int> levels, int maxNumCoeff)
    {
        // Nonzero levels from the highest frequency down, with the zero run before each.
        Span<int> level = stackalloc int[16];
        Span<int> run = stackalloc int[16];
        int total = 0, last = -1;
        for (int i = maxNumCoeff - 1; i >= 0; i--)
        {
            if (levels[i] != 0)
            {
                if (last < 0)
                {
                    last = i;
                }

                level[total] = levels[i];
                run[total] = 0;
                total++;
            }
            else if (total > 0)
            {
                run[total - 1]++;
            }
        }

        int trailingOnes = 0;
        while (trailingOnes < total && trailingOnes < 3 && Math.Abs(level[trailingOnes]) == 1)
        {
            trailingOnes++;
        }

        WriteCoeffToken(w, nC, total, trailingOnes);
        if (total == 0)
        {
            return 0;
        }

        for (int i = 0; i < trailingOnes; i++)
        {
            w.WriteFlag(level[i] < 0);
        }

        int suffixLength = total > 10 && trailingOnes < 3 ? 1 : 0;
        for (int i = trailingOnes; i < total; i++)
        {
            int v = level[i];
            int levelCode = v > 0 ? (2 * v) - 2 : (-2 * v) - 1;
            if (i == trailingOnes && trailingOnes < 3)
            {
                levelCode -= 2;
            }

            WriteLevel(w, levelCode, suffixLength);
            if (suffixLength == 0)
            {
                suffixLength = 1;
            }

            if (Math.Abs(v) > (3 << (suffixLength - 1)) && suffixLength < 6)
            {
                suffixLength++;
            }
        }

        // Zeros before the last nonzero coefficient (in scan order).
        int totalZeros = last + 1 - total;
        if (total < maxNumCoeff)
        {
            var table = maxNumCoeff == 4 ? ChromaDcTotalZeros[total - 1] : TotalZeros[total - 1];
            w.WriteBits(table.Code[totalZeros], table.Length[totalZeros]);
        }

        int zerosLeft = totalZeros;
        for (int i = 0; i < total - 1 && zerosLeft > 0; i++)
        {
            var table = RunBefore[Math.Min(zerosLeft, 7) - 1];
            w.WriteBits(table.Code[run[i]], table.Length[run[i]]);
            zerosLeft -= run[i];
        }

        return total;
    }

    private static void WriteCoeffToken(RbspWriter w, int nC, int total, int trailingOnes)
    {
        int t = CoeffTokenContext.Table(nC);
        if (t == CoeffTokenContext.FixedLengthTable)
        {
            // 6-bit fixed-length code: TotalCoeff - 1 and TrailingOnes, or 000011 for no coefficients.
            w.WriteBits(total == 0 ? 3u : (uint)(((total - 1) << 2) | trailingOnes), 6);
            return;
        }

        int symbol = (total * 4) + trailingOnes;
        w.WriteBits(CoeffToken[t].Code[symbol], CoeffToken[t].Length[symbol]);
    }

    // level_prefix (unary) and level_suffix for one levelCode (9.2.2.1, inverted).
    private static void WriteLevel(RbspWriter w, int levelCode, int suffixLength)
    {
        if (suffixLength == 0)
        {
            if (levelCode < 14)
            {
                w.WriteBits(1, levelCode + 1);
            }
            else if (levelCode < 30)
            {
                w.WriteBits(1, 15);
                w.WriteBits((uint)(levelCode - 14), 4);
            }
            else
            {
                w.WriteBits(1, 16);
                w.WriteBits((uint)Math.Min(levelCode - 30, 4095), 12);
            }

            return;
        }

        if (levelCode < (15 << suffixLength))
        {
            w.WriteBits(1, (levelCode >> suffixLength) + 1);
            w.WriteBits((uint)(levelCode & ((1 << suffixLength) - 1)), suffixLength);
        }
        else
        {
            w.WriteBits(1, 16);
            w.WriteBits((uint)Math.Min(levelCode - (15 << suffixLength), 4095), 12);
        }
    }

    /// <summary>The largest |level| <see cref="Write"/> can code without level_prefix &gt; 15 (Baseline).</summary>
    public const int MaxLevel = 2063;

    private static (byte[] Length, ushort[] Code)[] Invert(ushort[][] peekTables, int bits, int symbols)
    {
        var result = new (byte[], ushort[])[peekTables.Length];
        for (int t = 0; t < peekTables.Length; t++)
        {
            var len = new byte[symbols];
            var code = new ushort[symbols];
            ushort[] table = peekTables[t];
            for (int i = 0; i < table.Length; i++)
            {
                int e = table[i];
                int l = e & 0xFF;
                if (l == 0)
                {
                    continue;
                }

                int s = e >> 8;
                if (s < symbols && len[s] == 0)
                {
                    len[s] = (byte)l;
                    code[s] = (ushort)(i >> (bits - l));
                }
            }

            result[t] = (len, code);
        }

        return result;
    }
}
