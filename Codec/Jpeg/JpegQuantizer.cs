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
[SkipLocalsInit] // the stack block is fully written before use
internal sealed class JpegQuantizer
{
    private readonly int[] _divisors = new int[64];
    private readonly int[] _corrections = new int[64];
    private readonly uint[] _reciprocals = new uint[64];
    private readonly uint[] _shifts = new uint[64];

    // The same three tables with each row repeated in both 256-bit halves, for two blocks per vector.
    private readonly Vector512<uint>[] _corrections2 = new Vector512<uint>[8];
    private readonly Vector512<uint>[] _reciprocals2 = new Vector512<uint>[8];
    private readonly Vector512<uint>[] _shifts2 = new Vector512<uint>[8];

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

        for (int r = 0; r < 8; r++)
        {
            _corrections2[r] = Twice(Vector256.Create(_corrections.AsSpan(8 * r, 8)).AsUInt32());
            _reciprocals2[r] = Twice(Vector256.Create<uint>(_reciprocals.AsSpan(8 * r, 8)));
            _shifts2[r] = Twice(Vector256.Create<uint>(_shifts.AsSpan(8 * r, 8)));
        }

        static Vector512<uint> Twice(Vector256<uint> row) => Vector512.Create(row, row);
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

    /// <summary>
    /// Two blocks at once (AVX-512, after <see cref="ForwardDctPair"/>): vector r holds row r of block A
    /// in its lower half and of block B in its upper half. Writes both blocks in zig-zag order and
    /// returns A's nonzero mask (B's in <paramref name="maskB"/>); same arithmetic as <see cref="Quantize"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong QuantizeTwoBlocks(ref Vector512<int> rows, Span<short> zigZagA, Span<short> zigZagB, out ulong maskB)
    {
        ref Vector512<uint> corr = ref MemoryMarshal.GetArrayDataReference(_corrections2);
        ref Vector512<uint> recip = ref MemoryMarshal.GetArrayDataReference(_reciprocals2);
        ref Vector512<uint> shifts = ref MemoryMarshal.GetArrayDataReference(_shifts2);

        // Each vector of words holds [A row 2j | B row 2j | A row 2j+1 | B row 2j+1] (vpmovsdw keeps order).
        Vector512<short> w0 = RowPairWords(ref rows, ref corr, ref recip, ref shifts, 0);
        Vector512<short> w1 = RowPairWords(ref rows, ref corr, ref recip, ref shifts, 2);
        Vector512<short> w2 = RowPairWords(ref rows, ref corr, ref recip, ref shifts, 4);
        Vector512<short> w3 = RowPairWords(ref rows, ref corr, ref recip, ref shifts, 6);

        // Natural-order rows 0..3 and 4..7 of each block, then the zig-zag gather as in Quantize.
        Vector512<long> pickA = Vector512.Create(0L, 1, 4, 5, 8, 9, 12, 13), pickB = Vector512.Create(2L, 3, 6, 7, 10, 11, 14, 15);
        Vector512<short> lowA = Avx512F.PermuteVar8x64x2(w0.AsInt64(), pickA, w1.AsInt64()).AsInt16();
        Vector512<short> highA = Avx512F.PermuteVar8x64x2(w2.AsInt64(), pickA, w3.AsInt64()).AsInt16();
        Vector512<short> lowB = Avx512F.PermuteVar8x64x2(w0.AsInt64(), pickB, w1.AsInt64()).AsInt16();
        Vector512<short> highB = Avx512F.PermuteVar8x64x2(w2.AsInt64(), pickB, w3.AsInt64()).AsInt16();
        maskB = StoreZigZag(lowB, highB, zigZagB);
        return StoreZigZag(lowA, highA, zigZagA);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> RowPairWords(ref Vector512<int> rows, ref Vector512<uint> corr, ref Vector512<uint> recip, ref Vector512<uint> shifts, int r)
    {
        Vector256<short> even = Avx512F.ConvertToVector256Int16WithSaturation(QuantizeRow(Unsafe.Add(ref rows, r), Unsafe.Add(ref corr, r), Unsafe.Add(ref recip, r), Unsafe.Add(ref shifts, r)));
        Vector256<short> odd = Avx512F.ConvertToVector256Int16WithSaturation(QuantizeRow(Unsafe.Add(ref rows, r + 1), Unsafe.Add(ref corr, r + 1), Unsafe.Add(ref recip, r + 1), Unsafe.Add(ref shifts, r + 1)));
        return Vector512.Create(even, odd);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong StoreZigZag(Vector512<short> low, Vector512<short> high, Span<short> zigZag)
    {
        if (zigZag.Length < 64)
        {
            throw new ArgumentException("a block needs 64 coefficients", nameof(zigZag));
        }

        ref short destination = ref MemoryMarshal.GetReference(zigZag);
        Vector512<short> z0 = Avx512BW.PermuteVar32x16x2(low, ZigZagLow, high);
        Vector512<short> z1 = Avx512BW.PermuteVar32x16x2(low, ZigZagHigh, high);
        z0.StoreUnsafe(ref destination);
        z1.StoreUnsafe(ref destination, 32);
        ulong zeros = Vector512.Equals(z0, Vector512<short>.Zero).ExtractMostSignificantBits()
            | (Vector512.Equals(z1, Vector512<short>.Zero).ExtractMostSignificantBits() << 32);
        return ~zeros;
    }

    /// <summary>q = (|x| + corr) · recip >> shift with x's sign (zero stays zero because corr &lt; divisor).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> QuantizeRow(Vector512<int> x, Vector512<uint> corr, Vector512<uint> recip, Vector512<uint> shifts)
    {
        Vector512<uint> n = Avx512F.Abs(x) + corr;
        Vector512<int> q = Avx512F.ShiftRightLogicalVariable(n * recip, shifts).AsInt32();
        Vector512<int> sign = x >> 31;
        return (q ^ sign) - sign;
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
