using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The vector islow forward DCT of <see cref="ForwardDct"/> on two blocks at once with AVX-512: vector r
/// holds row r of block A in its lower 256 bits and row r of block B in its upper 256 bits, so every
/// butterfly operation serves both blocks and the transposes work within each 256-bit half. The lane
/// arithmetic is the same as the 256-bit path's (and so the scalar reference's), hence bit-identical.
/// </summary>
internal static class ForwardDctPair
{
    private const int ConstBits = 13;
    private const int Pass1Bits = 2;

    /// <summary>Whether the pair transform may be used on this machine.</summary>
    public static bool IsSupported => Avx512F.IsSupported && Avx512BW.IsSupported;

    /// <summary>In-place transform of two blocks' level-shifted rows (see the type's remarks for the layout).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transform(ref Vector512<int> rows)
    {
        ref Vector512<int> r0 = ref rows;
        Vector512<int> a0 = r0, a1 = Unsafe.Add(ref r0, 1), a2 = Unsafe.Add(ref r0, 2), a3 = Unsafe.Add(ref r0, 3);
        Vector512<int> a4 = Unsafe.Add(ref r0, 4), a5 = Unsafe.Add(ref r0, 5), a6 = Unsafe.Add(ref r0, 6), a7 = Unsafe.Add(ref r0, 7);
        Vector512<long> low = BlockPairs.LowLanes, high = BlockPairs.HighLanes;

        BlockPairs.Transpose(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7, low, high);
        Butterfly(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7, firstPass: true);
        BlockPairs.Transpose(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7, low, high);
        Butterfly(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7, firstPass: false);

        r0 = a0;
        Unsafe.Add(ref r0, 1) = a1;
        Unsafe.Add(ref r0, 2) = a2;
        Unsafe.Add(ref r0, 3) = a3;
        Unsafe.Add(ref r0, 4) = a4;
        Unsafe.Add(ref r0, 5) = a5;
        Unsafe.Add(ref r0, 6) = a6;
        Unsafe.Add(ref r0, 7) = a7;
    }

    /// <summary>jfdctint.c's 1-D pass, as in <see cref="ForwardDct"/>'s vector butterfly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Butterfly(
        ref Vector512<int> d0, ref Vector512<int> d1, ref Vector512<int> d2, ref Vector512<int> d3,
        ref Vector512<int> d4, ref Vector512<int> d5, ref Vector512<int> d6, ref Vector512<int> d7, bool firstPass)
    {
        Vector512<int> tmp0 = d0 + d7, tmp7 = d0 - d7, tmp1 = d1 + d6, tmp6 = d1 - d6;
        Vector512<int> tmp2 = d2 + d5, tmp5 = d2 - d5, tmp3 = d3 + d4, tmp4 = d3 - d4;
        Vector512<int> tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
        int shift = firstPass ? ConstBits - Pass1Bits : ConstBits + Pass1Bits;
        Vector512<int> round = Vector512.Create(1 << (shift - 1));
        if (firstPass)
        {
            d0 = (tmp10 + tmp11) << Pass1Bits;
            d4 = (tmp10 - tmp11) << Pass1Bits;
        }
        else
        {
            Vector512<int> r1 = Vector512.Create(1 << (Pass1Bits - 1));
            d0 = (tmp10 + tmp11 + r1) >> Pass1Bits;
            d4 = (tmp10 - tmp11 + r1) >> Pass1Bits;
        }

        Vector512<int> z1 = (tmp12 + tmp13) * ForwardDct.F0541196100;
        d2 = (z1 + (tmp13 * ForwardDct.F0765366865) + round) >> shift;
        d6 = (z1 - (tmp12 * ForwardDct.F1847759065) + round) >> shift;

        z1 = tmp4 + tmp7;
        Vector512<int> z2 = tmp5 + tmp6, z3 = tmp4 + tmp6, z4 = tmp5 + tmp7;
        Vector512<int> z5 = (z3 + z4) * ForwardDct.F1175875602;
        tmp4 *= ForwardDct.F0298631336;
        tmp5 *= ForwardDct.F2053119869;
        tmp6 *= ForwardDct.F3072711026;
        tmp7 *= ForwardDct.F1501321110;
        z1 *= -ForwardDct.F0899976223;
        z2 *= -ForwardDct.F2562915447;
        z3 = (z3 * -ForwardDct.F1961570560) + z5;
        z4 = (z4 * -ForwardDct.F0390180644) + z5;
        d7 = (tmp4 + z1 + z3 + round) >> shift;
        d5 = (tmp5 + z2 + z4 + round) >> shift;
        d3 = (tmp6 + z2 + z3 + round) >> shift;
        d1 = (tmp7 + z1 + z4 + round) >> shift;
    }
}
