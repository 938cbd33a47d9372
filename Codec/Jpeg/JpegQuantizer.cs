using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// One quantization table and the arithmetic that applies it to forward-DCT output: q = (|x| + 4·Q) / (8·Q)
/// with the sign of x restored, i.e. division by the table entry of the 8-times-scaled DCT rounding half
/// away from zero (libjpeg jcdctmgr.c). The vector path replaces the division by an exact reciprocal
/// multiply: for divisors d ≤ 2040 and numerators below 2^15, ⌊n·m / 2^s⌋ = ⌊n / d⌋ with
/// m = ⌈2^s / d⌉, s = 15 + ⌈log2 d⌉, and n·m fits in 32 bits (checked exhaustively by a test).
/// Output goes out in zig-zag order with a bit mask of the nonzero coefficients for the entropy coder.
/// </summary>
internal sealed class JpegQuantizer
{
    private readonly int[] _divisors = new int[64];
    private readonly int[] _corrections = new int[64];
    private readonly uint[] _reciprocals = new uint[64];
    private readonly uint[] _shifts = new uint[64];

    /// <summary>Creates the quantizer for a table of 64 entries in natural order.</summary>
    public JpegQuantizer(ReadOnlySpan<ushort> table)
    {
        Table = table.ToArray();
        UsesReciprocals = true;
        for (int i = 0; i < 64; i++)
        {
            int d = table[i] * 8;
            _divisors[i] = d;
            _corrections[i] = d / 2;
            int log2 = 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(d - 1));
            int shift = 15 + log2;
            _shifts[i] = (uint)shift;
            _reciprocals[i] = (uint)(((1UL << shift) + (ulong)d - 1) / (ulong)d);
            UsesReciprocals &= table[i] <= 255;
        }
    }

    /// <summary>The table entries, natural order.</summary>
    public ushort[] Table { get; }

    /// <summary>Whether the reciprocal path is exact (all entries ≤ 255, i.e. a baseline table).</summary>
    public bool UsesReciprocals { get; }

    /// <summary>Whether the AVX2 path applies.</summary>
    public bool IsVectorized => UsesReciprocals && Avx2.IsSupported;

    /// <summary>Scalar reference: quantizes 64 natural-order DCT outputs into zig-zag order; returns the nonzero mask.</summary>
    public ulong QuantizeScalar(ReadOnlySpan<int> dct, Span<short> zigZag)
    {
        ReadOnlySpan<byte> order = JpegTables.ZigZag;
        ulong mask = 0;
        for (int k = 0; k < 64; k++)
        {
            int i = order[k];
            int x = dct[i];
            int q = (Math.Abs(x) + _corrections[i]) / _divisors[i];
            zigZag[k] = (short)(x < 0 ? -q : q);
            mask |= (q != 0 ? 1UL : 0UL) << k;
        }

        return mask;
    }

    /// <summary>
    /// Vector path: quantizes eight row vectors of DCT output into zig-zag order; returns the nonzero
    /// mask. The zig-zag permutation uses AVX-512BW when present and <paramref name="allowAvx512"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe ulong Quantize(ref Vector256<int> rows, Span<short> zigZag, bool allowAvx512 = true)
    {
        Vector256<short> n0, n1, n2, n3;
        fixed (int* corr = _corrections)
        fixed (uint* recip = _reciprocals, shifts = _shifts)
        {
            n0 = QuantizePair(ref rows, 0, corr, recip, shifts);
            n1 = QuantizePair(ref rows, 2, corr, recip, shifts);
            n2 = QuantizePair(ref rows, 4, corr, recip, shifts);
            n3 = QuantizePair(ref rows, 6, corr, recip, shifts);
        }

        ref short destination = ref MemoryMarshal.GetReference(zigZag);
        if (Avx512BW.IsSupported && allowAvx512)
        {
            // vpermt2w gathers any 32 of the 64 natural-order words in one instruction.
            Vector512<short> low = Vector512.Create(n0, n1), high = Vector512.Create(n2, n3);
            Vector512<short> z0 = Avx512BW.PermuteVar32x16x2(low, ZigZagLow, high);
            Vector512<short> z1 = Avx512BW.PermuteVar32x16x2(low, ZigZagHigh, high);
            z0.StoreUnsafe(ref destination);
            z1.StoreUnsafe(ref destination, 32);
            ulong zeros = Vector512.Equals(z0, Vector512<short>.Zero).ExtractMostSignificantBits()
                | (Vector512.Equals(z1, Vector512<short>.Zero).ExtractMostSignificantBits() << 32);
            return ~zeros;
        }

        short* natural = stackalloc short[64];
        n0.Store(natural);
        n1.Store(natural + 16);
        n2.Store(natural + 32);
        n3.Store(natural + 48);
        ReadOnlySpan<byte> order = JpegTables.ZigZag;
        for (int k = 0; k < 64; k++)
        {
            Unsafe.Add(ref destination, k) = natural[order[k]];
        }

        return NonzeroMask(zigZag);
    }

    private static readonly Vector512<short> ZigZagLow = ZigZagIndices(0);
    private static readonly Vector512<short> ZigZagHigh = ZigZagIndices(32);

    private static Vector512<short> ZigZagIndices(int start)
    {
        Span<short> indices = stackalloc short[32];
        for (int k = 0; k < 32; k++)
        {
            indices[k] = JpegTables.ZigZag[start + k];
        }

        return Vector512.Create<short>(indices);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<short> QuantizePair(ref Vector256<int> rows, int r, int* corr, uint* recip, uint* shifts)
    {
        Vector256<int> q0 = QuantizeRow(Unsafe.Add(ref rows, r), corr + (8 * r), recip + (8 * r), shifts + (8 * r));
        Vector256<int> q1 = QuantizeRow(Unsafe.Add(ref rows, r + 1), corr + (8 * r) + 8, recip + (8 * r) + 8, shifts + (8 * r) + 8);

        // packssdw works per 128-bit lane; the qword permute restores row order.
        return Avx2.Permute4x64(Avx2.PackSignedSaturate(q0, q1).AsInt64(), 0b11_01_10_00).AsInt16();
    }

    /// <summary>Bit k set when zigZag[k] is nonzero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe ulong NonzeroMask(ReadOnlySpan<short> zigZag)
    {
        fixed (short* p = zigZag)
        {
            Vector256<short> zero = Vector256<short>.Zero;
            Vector256<short> e0 = Avx2.CompareEqual(Avx.LoadVector256(p), zero);
            Vector256<short> e1 = Avx2.CompareEqual(Avx.LoadVector256(p + 16), zero);
            Vector256<short> e2 = Avx2.CompareEqual(Avx.LoadVector256(p + 32), zero);
            Vector256<short> e3 = Avx2.CompareEqual(Avx.LoadVector256(p + 48), zero);
            Vector256<byte> b01 = Avx2.Permute4x64(Avx2.PackSignedSaturate(e0, e1).AsInt64(), 0b11_01_10_00).AsByte();
            Vector256<byte> b23 = Avx2.Permute4x64(Avx2.PackSignedSaturate(e2, e3).AsInt64(), 0b11_01_10_00).AsByte();
            ulong zeros = (uint)Avx2.MoveMask(b01) | ((ulong)(uint)Avx2.MoveMask(b23) << 32);
            return ~zeros;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> QuantizeRow(Vector256<int> x, int* corr, uint* recip, uint* shifts)
    {
        Vector256<uint> n = Avx2.Add(Avx2.Abs(x), Avx.LoadVector256((uint*)corr));
        Vector256<uint> q = Avx2.ShiftRightLogicalVariable(Avx2.MultiplyLow(n, Avx.LoadVector256(recip)), Avx.LoadVector256(shifts));
        return Avx2.Sign(q.AsInt32(), x);
    }
}
