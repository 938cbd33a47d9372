using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Huffman decoding of one block's coefficients: the sequential procedure of T.81 F.2.2 and the four
/// progressive procedures of G.1.2 (DC first / refinement, AC first / refinement with EOB runs).
/// Coefficients are written in natural order.
/// </summary>
internal static class BlockEntropyDecoder
{
    /// <summary>Outcome of <see cref="DecodeSequential"/>; the caller turns the errors into exceptions.</summary>
    public enum SequentialResult
    {
        Ok,
        BadDcCode,
        BadAcCode,
        CoefficientOverrun,
        ZeroRunWithoutCoefficient,
    }

    /// <summary>
    /// Sequential (baseline / extended) block: DC difference then run/size-coded ACs (F.2.2.1–F.2.2.2) into
    /// a zeroed block, in zig-zag order (the caller un-zig-zags before the IDCT).
    /// </summary>
    /// <remarks>
    /// Written for the register allocator: its own frame (not inlined), the bit buffer in locals for the
    /// whole block (the reader's fields are touched only to refill), one combined AC table, no zig-zag
    /// table and no MCU number or exceptions in the loop (errors are returned), so the few values live
    /// across the rare refill call stay in registers. Tables and the block are indexed without bounds
    /// checks: a 9-bit prefix is always &lt; 512 and k ≤ 63 is checked before every store.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static SequentialResult DecodeSequential(ref EntropyBitReader reader, FrameComponent c, Span<short> block)
    {
        const int look = HuffmanDecodingTable.LookaheadBits;
        if (block.Length < 64)
        {
            throw new ArgumentException("a block has 64 coefficients", nameof(block));
        }

        ref short coefficients = ref MemoryMarshal.GetReference(block);
        if (reader.Count < 32)
        {
            reader.Refill();
        }

        ulong bits = reader.Bits;
        int count = reader.Count;
        HuffmanDecodingTable dc = c.DcTable!;
        int entry = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(dc.Lookahead), (int)(bits >> (64 - look)));
        if (entry == 0)
        {
            entry = dc.DecodeLong((uint)(bits >> 48));
            if (entry < 0)
            {
                return Stop(ref reader, bits, count, SequentialResult.BadDcCode);
            }
        }

        int len = entry >> 8, size = entry & 0xFF;
        bits <<= len;
        count -= len;
        int diff = 0;
        if (size != 0)
        {
            int v = (int)(bits >> (64 - size));
            bits <<= size;
            count -= size;
            diff = v < (1 << (size - 1)) ? v - (1 << size) + 1 : v;
        }

        // libjpeg keeps the predictor as an int and stores it truncated to a 16-bit coefficient.
        c.DcPredictor += diff;
        coefficients = (short)c.DcPredictor;

        HuffmanDecodingTable ac = c.AcTable!;
        reader.LongCodeTable = ac;
        ref int table = ref MemoryMarshal.GetArrayDataReference(ac.Sequential);
        int afterZrl = 0; // k just after the latest ZRL: an EOB there ends a block on a ZRL's zeros
        for (int k = 1; k < 64; k++)
        {
            if (count < 32)
            {
                reader.Bits = bits;
                reader.Count = count;
                reader.Refill();
                bits = reader.Bits;
                count = reader.Count;
            }

            entry = Unsafe.Add(ref table, (int)(bits >> (64 - look)));
            if (entry < 0)
            {
                // Symbol and magnitude bits resolved by one lookup.
                k += (entry >> 8) & 0xFF;
                len = entry & 0xFF;
                bits <<= len;
                count -= len;
                if (k > 63)
                {
                    return Stop(ref reader, bits, count, SequentialResult.CoefficientOverrun);
                }

                Unsafe.Add(ref coefficients, k) = (short)((entry << 1) >> 17);
                continue;
            }

            if (entry == 0)
            {
                entry = reader.LongCodeTable!.DecodeLong((uint)(bits >> 48));
                if (entry < 0)
                {
                    return Stop(ref reader, bits, count, SequentialResult.BadAcCode);
                }
            }

            len = entry >> 8;
            bits <<= len;
            count -= len;
            int run = (entry >> 4) & 15;
            size = entry & 15;
            if (size == 0)
            {
                if (run != 15)
                {
                    if (k == afterZrl)
                    {
                        return Stop(ref reader, bits, count, SequentialResult.ZeroRunWithoutCoefficient);
                    }

                    break; // EOB
                }

                // ZRL: sixteen zeros (with the loop's k++), and T.81's encoder writes one only before the
                // non-zero coefficient it leads up to (the block's trailing zeros are coded by EOB alone). The
                // scan checker and the sampling grammar hold streams to that, so the strict decoder does too
                // (libjpeg would end the block at 64 instead).
                if (k > 47)
                {
                    return Stop(ref reader, bits, count, SequentialResult.ZeroRunWithoutCoefficient);
                }

                k += 15;
                afterZrl = k + 1;
                continue;
            }

            k += run;
            if (k > 63)
            {
                return Stop(ref reader, bits, count, SequentialResult.CoefficientOverrun);
            }

            int m = (int)(bits >> (64 - size));
            bits <<= size;
            count -= size;
            Unsafe.Add(ref coefficients, k) = (short)(m < (1 << (size - 1)) ? m - (1 << size) + 1 : m);
        }

        return Stop(ref reader, bits, count, SequentialResult.Ok);
    }

    /// <summary>Throws the exception for a failed <see cref="DecodeSequential"/> (with the MCU number the block belongs to).</summary>
    public static JpegFormatException SequentialError(ref EntropyBitReader reader, SequentialResult result, int mcu) => result switch
    {
        SequentialResult.BadDcCode => BadCode(ref reader, "DC", mcu),
        SequentialResult.BadAcCode => BadCode(ref reader, "AC", mcu),
        SequentialResult.CoefficientOverrun => CoefficientOverrun(ref reader, mcu),
        _ => ZeroRunWithoutCoefficient(ref reader, mcu),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static SequentialResult Stop(ref EntropyBitReader reader, ulong bits, int count, SequentialResult result)
    {
        reader.Bits = bits;
        reader.Count = count;
        return result;
    }

    /// <summary>Progressive DC first scan (G.1.2.1): the DC difference scaled by 2^Al.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void DecodeDcFirst(ref EntropyBitReader reader, FrameComponent c, Span<short> block, int al, int mcu)
    {
        reader.EnsureBits();
        int size = reader.DecodeSymbol(c.DcTable!);
        if (size < 0)
        {
            throw BadCode(ref reader, "DC", mcu);
        }

        c.DcPredictor += reader.ReceiveExtend(size);
        block[0] = (short)(c.DcPredictor << al);
    }

    /// <summary>Progressive DC refinement (G.1.2.1): one raw bit ORed in at bit Al.</summary>
    public static void DecodeDcRefine(ref EntropyBitReader reader, Span<short> block, int al)
    {
        if (reader.ReadBit() != 0)
        {
            block[0] |= (short)(1 << al);
        }
    }

    /// <summary>Progressive AC first scan of band Ss..Se (G.1.2.2), with end-of-band runs.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void DecodeAcFirst(ref EntropyBitReader reader, HuffmanDecodingTable ac, Span<short> block, int ss, int se, int al, ref int eobRun, int mcu)
    {
        if (eobRun > 0)
        {
            eobRun--;
            return;
        }

        ReadOnlySpan<byte> zigZag = JpegTables.ZigZag;
        for (int k = ss; k <= se; k++)
        {
            reader.EnsureBits();
            int rs = reader.DecodeSymbol(ac);
            if (rs < 0)
            {
                throw BadCode(ref reader, "AC", mcu);
            }

            int run = rs >> 4, size = rs & 15;
            if (size != 0)
            {
                k += run;
                if (k > 63)
                {
                    throw CoefficientOverrun(ref reader, mcu);
                }

                block[zigZag[k]] = (short)(reader.ReceiveExtend(size) * (1 << al));
            }
            else if (run == 15)
            {
                k += 15;
            }
            else
            {
                // EOBr: this block and 2^r + (r bits) − 1 more end here.
                eobRun = (1 << run) - 1;
                if (run != 0)
                {
                    eobRun += reader.ReadBits(run);
                }

                break;
            }
        }
    }

    /// <summary>
    /// Progressive AC refinement of band Ss..Se (G.1.2.3): new coefficients of magnitude 2^Al, and one
    /// correction bit for every already-nonzero coefficient passed over (also inside EOB runs).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void DecodeAcRefine(ref EntropyBitReader reader, HuffmanDecodingTable ac, Span<short> block, int ss, int se, int al, ref int eobRun, int mcu)
    {
        ReadOnlySpan<byte> zigZag = JpegTables.ZigZag;
        int plus = 1 << al, minus = -1 << al;
        int k = ss;
        if (eobRun == 0)
        {
            for (; k <= se; k++)
            {
                reader.EnsureBits();
                int rs = reader.DecodeSymbol(ac);
                if (rs < 0)
                {
                    throw BadCode(ref reader, "AC", mcu);
                }

                int run = rs >> 4, size = rs & 15, value = 0;
                if (size != 0)
                {
                    if (size != 1)
                    {
                        throw new JpegFormatException($"AC refinement symbol with size {size} (must be 1)", reader.UnreadByteOffset, mcu);
                    }

                    value = reader.ReadBits(1) != 0 ? plus : minus;
                }
                else if (run != 15)
                {
                    eobRun = 1 << run;
                    if (run != 0)
                    {
                        eobRun += reader.ReadBits(run);
                    }

                    break; // The rest of the band is handled as part of the run below.
                }

                // Skip `run` zero-history coefficients, refining the nonzero ones on the way.
                do
                {
                    int z = zigZag[k];
                    if (block[z] != 0)
                    {
                        RefineBit(ref reader, block, z, plus, minus);
                    }
                    else
                    {
                        if (run == 0)
                        {
                            break;
                        }

                        run--;
                    }

                    k++;
                }
                while (k <= se);

                if (value != 0)
                {
                    if (k > se)
                    {
                        throw CoefficientOverrun(ref reader, mcu);
                    }

                    block[zigZag[k]] = (short)value;
                }
            }
        }

        if (eobRun > 0)
        {
            // Inside an EOB run: only correction bits for the already-nonzero coefficients.
            for (; k <= se; k++)
            {
                int z = zigZag[k];
                if (block[z] != 0)
                {
                    reader.EnsureBits();
                    RefineBit(ref reader, block, z, plus, minus);
                }
            }

            eobRun--;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RefineBit(ref EntropyBitReader reader, Span<short> block, int z, int plus, int minus)
    {
        if (reader.ReadBit() != 0 && (block[z] & plus) == 0)
        {
            block[z] = (short)(block[z] >= 0 ? block[z] + plus : block[z] + minus);
        }
    }

    private static JpegFormatException BadCode(ref EntropyBitReader reader, string kind, int mcu)
        => new($"invalid {kind} Huffman code", reader.UnreadByteOffset, mcu);

    private static JpegFormatException ZeroRunWithoutCoefficient(ref EntropyBitReader reader, int mcu)
        => new("ZRL not followed by a non-zero coefficient in the block", reader.UnreadByteOffset, mcu);

    private static JpegFormatException CoefficientOverrun(ref EntropyBitReader reader, int mcu)
        => new("run of zeros goes past coefficient 63", reader.UnreadByteOffset, mcu);
}
