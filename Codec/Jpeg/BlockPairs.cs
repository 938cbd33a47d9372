using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The layout shared by the two-block AVX-512 transforms (<see cref="ForwardDctPair"/>, <see cref="InverseDctPair"/>):
/// eight vectors, vector r holding row r of block A in its lower 256 bits and row r of block B in its upper half.
/// </summary>
internal static class BlockPairs
{
    /// <summary>vpermt2q qword selection acting like vperm2i128 0x20 on each 256-bit half.</summary>
    public static readonly Vector512<long> LowLanes = Vector512.Create(0L, 1, 8, 9, 4, 5, 12, 13);

    /// <summary>vpermt2q qword selection acting like vperm2i128 0x31 on each 256-bit half.</summary>
    public static readonly Vector512<long> HighLanes = Vector512.Create(2L, 3, 10, 11, 6, 7, 14, 15);

    /// <summary>Transposes the 8x8 matrix in each 256-bit half (unpack 32, unpack 64, then 128-bit lane pairs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose(
        ref Vector512<int> r0, ref Vector512<int> r1, ref Vector512<int> r2, ref Vector512<int> r3,
        ref Vector512<int> r4, ref Vector512<int> r5, ref Vector512<int> r6, ref Vector512<int> r7,
        Vector512<long> low, Vector512<long> high)
    {
        Vector512<long> t0 = Avx512F.UnpackLow(r0, r1).AsInt64(), t1 = Avx512F.UnpackHigh(r0, r1).AsInt64();
        Vector512<long> t2 = Avx512F.UnpackLow(r2, r3).AsInt64(), t3 = Avx512F.UnpackHigh(r2, r3).AsInt64();
        Vector512<long> t4 = Avx512F.UnpackLow(r4, r5).AsInt64(), t5 = Avx512F.UnpackHigh(r4, r5).AsInt64();
        Vector512<long> t6 = Avx512F.UnpackLow(r6, r7).AsInt64(), t7 = Avx512F.UnpackHigh(r6, r7).AsInt64();
        Vector512<long> u0 = Avx512F.UnpackLow(t0, t2), u1 = Avx512F.UnpackHigh(t0, t2);
        Vector512<long> u2 = Avx512F.UnpackLow(t1, t3), u3 = Avx512F.UnpackHigh(t1, t3);
        Vector512<long> u4 = Avx512F.UnpackLow(t4, t6), u5 = Avx512F.UnpackHigh(t4, t6);
        Vector512<long> u6 = Avx512F.UnpackLow(t5, t7), u7 = Avx512F.UnpackHigh(t5, t7);
        r0 = Avx512F.PermuteVar8x64x2(u0, low, u4).AsInt32();
        r4 = Avx512F.PermuteVar8x64x2(u0, high, u4).AsInt32();
        r1 = Avx512F.PermuteVar8x64x2(u1, low, u5).AsInt32();
        r5 = Avx512F.PermuteVar8x64x2(u1, high, u5).AsInt32();
        r2 = Avx512F.PermuteVar8x64x2(u2, low, u6).AsInt32();
        r6 = Avx512F.PermuteVar8x64x2(u2, high, u6).AsInt32();
        r3 = Avx512F.PermuteVar8x64x2(u3, low, u7).AsInt32();
        r7 = Avx512F.PermuteVar8x64x2(u3, high, u7).AsInt32();
    }
}
