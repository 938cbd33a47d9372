using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace JpegLm.Codec.Avc.Encoder;

/// <summary>
/// Block distortion measures for mode decision and motion search: SAD and SATD (sum of absolute
/// 4x4 Hadamard-transformed differences, halved, as x264 counts it).
/// </summary>
[SkipLocalsInit]
internal static class Distortion
{
    /// <summary>SAD of a 16-wide block of <paramref name="height"/> rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Sad16(byte[] a, int ao, int aStride, byte[] b, int bo, int bStride, int height)
    {
        if (Sse2.IsSupported)
        {
            Vector128<ulong> acc = Vector128<ulong>.Zero;
            for (int y = 0; y < height; y++)
            {
                var va = Vector128.Create(a.AsSpan(ao + (y * aStride), 16));
                var vb = Vector128.Create(b.AsSpan(bo + (y * bStride), 16));
                acc = Sse2.Add(acc, Sse2.SumAbsoluteDifferences(va, vb).AsUInt64());
            }

            return (int)(acc.GetElement(0) + acc.GetElement(1));
        }

        return Sad(a, ao, aStride, b, bo, bStride, 16, height);
    }

    /// <summary>SAD of a <paramref name="width"/> x <paramref name="height"/> block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Sad(byte[] a, int ao, int aStride, byte[] b, int bo, int bStride, int width, int height)
    {
        int sum = 0;
        for (int y = 0; y < height; y++)
        {
            int ra = ao + (y * aStride), rb = bo + (y * bStride);
            for (int x = 0; x < width; x++)
            {
                sum += Math.Abs(a[ra + x] - b[rb + x]);
            }
        }

        return sum;
    }

    /// <summary>SATD of a 4x4 block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Satd4x4(byte[] a, int ao, int aStride, byte[] b, int bo, int bStride)
    {
        Span<int> d = stackalloc int[16];
        for (int y = 0; y < 4; y++)
        {
            int ra = ao + (y * aStride), rb = bo + (y * bStride);
            int d0 = a[ra] - b[rb], d1 = a[ra + 1] - b[rb + 1], d2 = a[ra + 2] - b[rb + 2], d3 = a[ra + 3] - b[rb + 3];
            int s01 = d0 + d1, t01 = d0 - d1, s23 = d2 + d3, t23 = d2 - d3;
            d[y * 4] = s01 + s23;
            d[(y * 4) + 1] = s01 - s23;
            d[(y * 4) + 2] = t01 - t23;
            d[(y * 4) + 3] = t01 + t23;
        }

        int sum = 0;
        for (int x = 0; x < 4; x++)
        {
            int s01 = d[x] + d[4 + x], t01 = d[x] - d[4 + x], s23 = d[8 + x] + d[12 + x], t23 = d[8 + x] - d[12 + x];
            sum += Math.Abs(s01 + s23) + Math.Abs(s01 - s23) + Math.Abs(t01 - t23) + Math.Abs(t01 + t23);
        }

        return sum >> 1;
    }

    /// <summary>SATD of a block whose sides are multiples of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Satd(byte[] a, int ao, int aStride, byte[] b, int bo, int bStride, int width, int height)
    {
        int sum = 0;
        for (int y = 0; y < height; y += 4)
        {
            for (int x = 0; x < width; x += 4)
            {
                sum += Satd4x4(a, ao + (y * aStride) + x, aStride, b, bo + (y * bStride) + x, bStride);
            }
        }

        return sum;
    }
}
