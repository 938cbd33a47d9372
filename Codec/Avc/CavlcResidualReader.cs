using System.Runtime.CompilerServices;
using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Avc;

/// <summary>residual_block_cavlc() of clause 7.3.5.3.2 with the decoding rules of clause 9.2.</summary>
internal static class CavlcResidualReader
{
    /// <summary>
    /// Reads one block of up to <paramref name="maxNumCoeff"/> coefficients and returns TotalCoeff. When there are
    /// any, <paramref name="block"/> is cleared and coefficient k (in scan order) is written at
    /// <c>block[scan[k]]</c>, so levels land in raster order with no copy; a block without coefficients is left
    /// as it was. <paramref name="nC"/> is -1 for chroma DC, otherwise the neighbour-derived context (9.2.1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    public static int Read(RbspReader r, int nC, int maxNumCoeff, Span<int> block, ReadOnlySpan<byte> scan)
    {
        int totalCoeff, trailingOnes;
        int table = CoeffTokenContext.Table(nC);
        if (table == CoeffTokenContext.FixedLengthTable)
        {
            uint code = r.ReadBits(6);
            if (code == 3)
            {
                return 0;
            }

            totalCoeff = (int)(code >> 2) + 1;
            trailingOnes = (int)(code & 3);
            if (trailingOnes > totalCoeff)
            {
                throw new AvcFormatException("coeff_token with more trailing ones than coefficients", r.BitPosition >> 3);
            }
        }
        else
        {
            ushort entry = CavlcTables.CoeffTokenEntry(table, r.Peek(CavlcTables.CoeffTokenBits));
            if (entry == 0)
            {
                throw new AvcFormatException("coeff_token code does not exist", r.BitPosition >> 3);
            }

            r.Skip(entry & 0xFF);
            totalCoeff = entry >> 10;
            trailingOnes = (entry >> 8) & 3;
        }

        if (totalCoeff == 0)
        {
            return 0;
        }

        if (totalCoeff > maxNumCoeff)
        {
            throw new AvcFormatException($"TotalCoeff {totalCoeff} exceeds the block's {maxNumCoeff} coefficients", r.BitPosition >> 3);
        }

        Span<int> level = stackalloc int[16];
        int suffixLength = totalCoeff > 10 && trailingOnes < 3 ? 1 : 0;
        for (int i = 0; i < totalCoeff; i++)
        {
            if (i < trailingOnes)
            {
                level[i] = r.ReadFlag() ? -1 : 1;
                continue;
            }

            // level_prefix: leading zeros before a one (9.2.2.1).
            uint peek = r.Peek(32);
            int prefix = System.Numerics.BitOperations.LeadingZeroCount(peek);
            if (prefix > 28)
            {
                throw new AvcFormatException("level_prefix too long", r.BitPosition >> 3);
            }

            r.Skip(prefix + 1);

            int levelCode = Math.Min(15, prefix) << suffixLength;
            if (suffixLength > 0 || prefix >= 14)
            {
                int suffixSize = prefix == 14 && suffixLength == 0 ? 4 : prefix >= 15 ? prefix - 3 : suffixLength;
                if (suffixSize > 0)
                {
                    if (suffixSize > 28)
                    {
                        throw new AvcFormatException("level_suffix too long", r.BitPosition >> 3);
                    }

                    levelCode += (int)r.ReadBits(suffixSize);
                }
            }

            if (prefix >= 15 && suffixLength == 0)
            {
                levelCode += 15;
            }

            if (prefix >= 16)
            {
                levelCode += (1 << (prefix - 3)) - 4096;
            }

            if (i == trailingOnes && trailingOnes < 3)
            {
                levelCode += 2;
            }

            level[i] = (levelCode & 1) == 0 ? (levelCode + 2) >> 1 : (-levelCode - 1) >> 1;
            if (suffixLength == 0)
            {
                suffixLength = 1;
            }

            if (Math.Abs(level[i]) > (3 << (suffixLength - 1)) && suffixLength < 6)
            {
                suffixLength++;
            }
        }

        int zerosLeft = 0;
        if (totalCoeff < maxNumCoeff)
        {
            ushort entry = nC < 0
                ? CavlcTables.ChromaDcTotalZeros[totalCoeff - 1][r.Peek(CavlcTables.ZerosBits)]
                : CavlcTables.TotalZeros[totalCoeff - 1][r.Peek(CavlcTables.ZerosBits)];
            if (entry == 0)
            {
                throw new AvcFormatException("total_zeros code does not exist", r.BitPosition >> 3);
            }

            r.Skip(entry & 0xFF);
            zerosLeft = entry >> 8;
            if (zerosLeft + totalCoeff > maxNumCoeff)
            {
                throw new AvcFormatException($"total_zeros {zerosLeft} + TotalCoeff {totalCoeff} exceeds {maxNumCoeff}", r.BitPosition >> 3);
            }
        }

        // Place levels from the highest frequency down, consuming run_before codes (9.2.3, 9.2.4).
        scan = scan[..maxNumCoeff];
        block.Clear();
        int pos = totalCoeff - 1 + zerosLeft;
        for (int i = 0; i < totalCoeff; i++)
        {
            block[scan[pos]] = level[i];
            if (i == totalCoeff - 1)
            {
                break;
            }

            int run = 0;
            if (zerosLeft > 0)
            {
                ushort entry = CavlcTables.RunBefore[Math.Min(zerosLeft, 7) - 1][r.Peek(CavlcTables.ZerosBits)];
                if (entry == 0)
                {
                    throw new AvcFormatException("run_before code does not exist", r.BitPosition >> 3);
                }

                r.Skip(entry & 0xFF);
                run = entry >> 8;
                if (run > zerosLeft)
                {
                    throw new AvcFormatException($"run_before {run} exceeds zerosLeft {zerosLeft}", r.BitPosition >> 3);
                }

                zerosLeft -= run;
            }

            pos -= 1 + run;
        }

        return totalCoeff;
    }
}
