using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// YCbCr→RGB of <see cref="OutputColorConverter"/> for 16 pixels at a time. libjpeg's table entries are
/// themselves integer expressions of the chroma value (e.g. CrToR[cr] = (91881·(cr−128) + 2^15) >> 16),
/// so computing them in 32-bit lanes gives exactly the table results; byte shuffles then interleave R, G, B.
/// With AVX-512 (VBMI) 32 pixels go per step in 16-bit lanes; see <see cref="Convert32"/> for why that is exact.
/// </summary>
internal static class OutputColorConverterVector
{
    private const int FixCrR = 91881, FixCbB = 116130, FixCrG = 46802, FixCbG = 22554, Half = 1 << 15;

    // Shuffle masks that place byte k of R/G/B at output byte 3k/3k+1/3k+2 within each 16-byte chunk,
    // for the three chunks of 16 pixels: [chunk · 3 + channel].
    private static readonly Vector128<byte>[] Masks = [.. Enumerable.Range(0, 9).Select(i => Mask(16 * (i / 3), i % 3))];

    // vpermt2b indices that turn packus(R, G) (lane i: R 8i..8i+7, G 8i..8i+7) and packus(B, B) into
    // the 96 interleaved bytes of 32 pixels: output bytes 0..63, then 64..95 (upper half unused).
    private static readonly Vector512<byte> Interleave0 = InterleaveIndices(0);
    private static readonly Vector512<byte> Interleave1 = InterleaveIndices(64);

    public static bool IsSupported => Avx2.IsSupported && Ssse3.IsSupported;

    /// <summary>Whether the 32-pixel AVX-512 step is used.</summary>
    public static bool IsWideSupported => Avx512BW.IsSupported && Avx512Vbmi.IsSupported;

    /// <summary>Converts the first (width rounded down to 16) pixels; returns how many were done.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe int YCbCrToRgb(byte* y, byte* cb, byte* cr, byte* rgb, int width)
    {
        int i = 0;
        if (IsWideSupported)
        {
            Vector512<byte> i0 = Interleave0, i1 = Interleave1;
            for (; i + 32 <= width; i += 32)
            {
                Convert32(y + i, cb + i, cr + i, rgb + (3 * i), i0, i1);
            }
        }

        Vector128<byte>[] m = Masks;
        Vector128<byte> r0 = m[0], g0 = m[1], b0 = m[2], r1 = m[3], g1 = m[4], b1 = m[5], r2 = m[6], g2 = m[7], b2 = m[8];
        for (; i + 16 <= width; i += 16)
        {
            Vector128<byte> rr = Channels(y + i, cb + i, cr + i, out Vector128<byte> gg, out Vector128<byte> bb);
            byte* o = rgb + (3 * i);
            Sse2.Store(o, Sse2.Or(Sse2.Or(Ssse3.Shuffle(rr, r0), Ssse3.Shuffle(gg, g0)), Ssse3.Shuffle(bb, b0)));
            Sse2.Store(o + 16, Sse2.Or(Sse2.Or(Ssse3.Shuffle(rr, r1), Ssse3.Shuffle(gg, g1)), Ssse3.Shuffle(bb, b1)));
            Sse2.Store(o + 32, Sse2.Or(Sse2.Or(Ssse3.Shuffle(rr, r2), Ssse3.Shuffle(gg, g2)), Ssse3.Shuffle(bb, b2)));
        }

        return i;
    }

    /// <summary>
    /// 32 pixels in 16-bit lanes, exact against the 32-bit table formulas: with x = c − 128,
    /// (91881·x + 2^15) » 16 = x + ((mulhi(2x, 26345) + 1) » 1) because ⌊(⌊v⌋ + 1) / 2⌋ = ⌊(v + 1) / 2⌋
    /// (91881 = 2^16 + 26345; libjpeg-turbo's SIMD code uses the same identity); likewise
    /// (116130·x + 2^15) » 16 = 2x + ((mulhi(2x, −14942) + 1) » 1), and the green sum
    /// (−22554·xb − 46802·xr + 2^15) » 16 = −xr + ((−22554·xb + 18734·xr + 2^15) » 16) via pmaddwd.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Convert32(byte* y, byte* cb, byte* cr, byte* rgb, Vector512<byte> interleave0, Vector512<byte> interleave1)
    {
        Vector512<short> bias = Vector512.Create((short)128), one = Vector512.Create((short)1);
        Vector512<short> yy = Avx512BW.ConvertToVector512Int16(Avx.LoadVector256(y));
        Vector512<short> xb = Avx512BW.ConvertToVector512Int16(Avx.LoadVector256(cb)) - bias;
        Vector512<short> xr = Avx512BW.ConvertToVector512Int16(Avx.LoadVector256(cr)) - bias;
        Vector512<short> xb2 = xb + xb, xr2 = xr + xr;
        Vector512<short> r = yy + xr + ((Avx512BW.MultiplyHigh(xr2, Vector512.Create((short)26345)) + one) >> 1);
        Vector512<short> b = yy + xb2 + ((Avx512BW.MultiplyHigh(xb2, Vector512.Create((short)-14942)) + one) >> 1);
        Vector512<short> greenFactors = Vector512.Create((-22554 & 0xFFFF) | (18734 << 16)).AsInt16();
        Vector512<int> half = Vector512.Create(1 << 15);
        Vector512<int> gLo = (Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackLow(xb, xr), greenFactors) + half) >> 16;
        Vector512<int> gHi = (Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackHigh(xb, xr), greenFactors) + half) >> 16;
        Vector512<short> g = yy - xr + Avx512BW.PackSignedSaturate(gLo, gHi);
        Vector512<byte> rg = Avx512BW.PackUnsignedSaturate(r, g);
        Vector512<byte> bb = Avx512BW.PackUnsignedSaturate(b, b);
        Avx512BW.Store(rgb, Avx512Vbmi.PermuteVar64x8x2(rg, interleave0, bb));
        Avx.Store(rgb + 64, Avx512Vbmi.PermuteVar64x8x2(rg, interleave1, bb).GetLower());
    }

    private static Vector512<byte> InterleaveIndices(int firstOutputByte)
    {
        Span<byte> indices = stackalloc byte[64];
        for (int j = 0; j < 64; j++)
        {
            int o = firstOutputByte + j, pixel = Math.Min(o / 3, 31), channel = o % 3;
            int lane = 16 * (pixel / 8), within = pixel % 8;
            indices[j] = (byte)(channel switch
            {
                0 => lane + within,
                1 => lane + 8 + within,
                _ => 64 + lane + within, // from the second table: packus(B, B)
            });
        }

        return Vector512.Create<byte>(indices);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector128<byte> Channels(byte* y, byte* cb, byte* cr, out Vector128<byte> g, out Vector128<byte> b)
    {
        Half8(y, cb, cr, out Vector256<int> rLo, out Vector256<int> gLo, out Vector256<int> bLo);
        Half8(y + 8, cb + 8, cr + 8, out Vector256<int> rHi, out Vector256<int> gHi, out Vector256<int> bHi);
        g = Pack(gLo, gHi);
        b = Pack(bLo, bHi);
        return Pack(rLo, rHi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Half8(byte* y, byte* cb, byte* cr, out Vector256<int> r, out Vector256<int> g, out Vector256<int> b)
    {
        Vector256<int> yy = Avx2.ConvertToVector256Int32(y);
        Vector256<int> xb = Avx2.Subtract(Avx2.ConvertToVector256Int32(cb), Vector256.Create(128));
        Vector256<int> xr = Avx2.Subtract(Avx2.ConvertToVector256Int32(cr), Vector256.Create(128));
        Vector256<int> half = Vector256.Create(Half);
        r = Avx2.Add(yy, Avx2.ShiftRightArithmetic(Avx2.Add(Avx2.MultiplyLow(xr, Vector256.Create(FixCrR)), half), 16));
        b = Avx2.Add(yy, Avx2.ShiftRightArithmetic(Avx2.Add(Avx2.MultiplyLow(xb, Vector256.Create(FixCbB)), half), 16));
        Vector256<int> gSum = Avx2.Add(Avx2.Add(Avx2.MultiplyLow(xb, Vector256.Create(-FixCbG)), half), Avx2.MultiplyLow(xr, Vector256.Create(-FixCrG)));
        g = Avx2.Add(yy, Avx2.ShiftRightArithmetic(gSum, 16));
    }

    /// <summary>Saturates 16 ints to bytes (the clamp to 0..255) in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Pack(Vector256<int> lo, Vector256<int> hi)
    {
        Vector256<short> words = Avx2.Permute4x64(Avx2.PackSignedSaturate(lo, hi).AsInt64(), 0b11_01_10_00).AsInt16();
        return Sse2.PackUnsignedSaturate(words.GetLower(), words.GetUpper());
    }

    private static Vector128<byte> Mask(int chunkStart, int channel)
    {
        byte[] m = new byte[16];
        for (int j = 0; j < 16; j++)
        {
            int outputByte = chunkStart + j;
            m[j] = outputByte % 3 == channel ? (byte)(outputByte / 3) : (byte)0x80;
        }

        return Vector128.Create(m);
    }
}
