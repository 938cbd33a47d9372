namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Brings one downsampled component row up to the output width, choosing the method as libjpeg's
/// jdsample.c does with fancy upsampling on (djpeg's default): the triangle filter for 2:1
/// horizontal, 2:1 vertical and 2:1 both ways (box replication instead when the component is at
/// most 2 samples wide), plain replication for any other integral ratio. Edges replicate the last
/// real sample row/column of the component (not the block padding), as libjpeg's context rows do.
/// </summary>
internal sealed class Upsampler
{
    private enum Method
    {
        FullSize,
        H2V1Fancy,
        H1V2Fancy,
        H2V2Fancy,
        Replicate,
    }

    private readonly FrameComponent _c;
    private readonly Method _method;
    private readonly int _hExpand, _vExpand;
    private readonly short[] _colSums;

    public Upsampler(JpegFrame frame, FrameComponent c)
    {
        _c = c;
        if (frame.MaxH % c.H != 0 || frame.MaxV % c.V != 0)
        {
            throw new JpegFormatException($"component {c.Id}: sampling {c.H}x{c.V} is not an integral fraction of {frame.MaxH}x{frame.MaxV} (unsupported, as in libjpeg)", 0);
        }

        _hExpand = frame.MaxH / c.H;
        _vExpand = frame.MaxV / c.V;
        bool wide = c.SampleWidth > 2;
        _method = (_hExpand, _vExpand) switch
        {
            (1, 1) => Method.FullSize,
            (2, 1) when wide => Method.H2V1Fancy,
            (1, 2) => Method.H1V2Fancy,
            (2, 2) when wide => Method.H2V2Fancy,
            _ => Method.Replicate,
        };
        _colSums = new short[c.SampleWidth];
    }

    /// <summary>
    /// Output row <paramref name="y"/> of this component: a full-size component's plane row as it is (no
    /// copy), otherwise <paramref name="scratch"/> after <see cref="Row"/> has filled it.
    /// </summary>
    public ReadOnlySpan<byte> RowView(int y, Span<byte> scratch)
    {
        if (_method == Method.FullSize)
        {
            return _c.Plane.AsSpan(y * _c.Stride, _c.SampleWidth);
        }

        Row(y, scratch);
        return scratch;
    }

    /// <summary>Writes output row <paramref name="y"/> of this component into <paramref name="dst"/> (at least the image width, plus padding up to 2× the sample width).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public unsafe void Row(int y, Span<byte> dst)
    {
        FrameComponent c = _c;
        int stride = c.Stride, width = c.SampleWidth;
        byte[] plane = c.Plane;
        switch (_method)
        {
            case Method.FullSize:
                plane.AsSpan(y * stride, width).CopyTo(dst);
                break;
            case Method.H2V1Fancy:
                H2V1(plane.AsSpan(y * stride, width), dst);
                break;
            case Method.H1V2Fancy:
            {
                int iy = y >> 1;
                bool upper = (y & 1) == 0;
                int far = Math.Clamp(upper ? iy - 1 : iy + 1, 0, c.SampleHeight - 1);
                ReadOnlySpan<byte> near = plane.AsSpan(iy * stride, width), other = plane.AsSpan(far * stride, width);
                int bias = upper ? 1 : 2; // Alternating rounding bias, as jdsample.c does for 1:2.
                for (int i = 0; i < width; i++)
                {
                    dst[i] = (byte)(((near[i] * 3) + other[i] + bias) >> 2);
                }

                break;
            }

            case Method.H2V2Fancy:
            {
                int iy = y >> 1;
                int far = Math.Clamp((y & 1) == 0 ? iy - 1 : iy + 1, 0, c.SampleHeight - 1);
                short[] sums = _colSums;
                fixed (byte* p = plane)
                fixed (short* s = sums)
                {
                    if (UpsamplerVector.IsSupported)
                    {
                        UpsamplerVector.ColumnSums(p + (iy * stride), p + (far * stride), s, width);
                    }
                    else
                    {
                        for (int i = 0; i < width; i++)
                        {
                            s[i] = (short)((p[(iy * stride) + i] * 3) + p[(far * stride) + i]);
                        }
                    }
                }

                H2V2(sums, dst);
                break;
            }

            default:
            {
                ReadOnlySpan<byte> src = plane.AsSpan((y / _vExpand) * stride, width);
                int h = _hExpand, o = 0;
                for (int i = 0; i < width; i++)
                {
                    byte v = src[i];
                    for (int r = 0; r < h; r++)
                    {
                        dst[o++] = v;
                    }
                }

                break;
            }
        }
    }

    /// <summary>Triangle filter 2:1 horizontally: outputs at 1/4 and 3/4 between input centres, alternating bias 1/2.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void H2V1(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int n = src.Length;
        dst[0] = src[0];
        dst[1] = (byte)(((src[0] * 3) + src[1] + 2) >> 2);
        int start = 1;
        if (UpsamplerVector.IsSupported && dst.Length >= 2 * n)
        {
            fixed (byte* s = src)
            fixed (byte* d = dst)
            {
                start = UpsamplerVector.H2V1Interior(s, d, n);
            }
        }

        for (int i = start; i < n - 1; i++)
        {
            int v = src[i] * 3;
            dst[2 * i] = (byte)((v + src[i - 1] + 1) >> 2);
            dst[(2 * i) + 1] = (byte)((v + src[i + 1] + 2) >> 2);
        }

        dst[(2 * n) - 2] = (byte)(((src[n - 1] * 3) + src[n - 2] + 1) >> 2);
        dst[(2 * n) - 1] = src[n - 1];
    }

    /// <summary>Horizontal half of the 2:2 triangle filter on vertical column sums (weights 9/3/3/1 over 16).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void H2V2(ReadOnlySpan<short> sums, Span<byte> dst)
    {
        int n = sums.Length;
        dst[0] = (byte)(((sums[0] * 4) + 8) >> 4);
        dst[1] = (byte)(((sums[0] * 3) + sums[1] + 7) >> 4);
        int start = 1;
        if (UpsamplerVector.IsSupported && dst.Length >= 2 * n)
        {
            fixed (short* s = sums)
            fixed (byte* d = dst)
            {
                start = UpsamplerVector.H2V2Interior(s, d, n);
            }
        }

        for (int i = start; i < n - 1; i++)
        {
            int v = sums[i] * 3;
            dst[2 * i] = (byte)((v + sums[i - 1] + 8) >> 4);
            dst[(2 * i) + 1] = (byte)((v + sums[i + 1] + 7) >> 4);
        }

        dst[(2 * n) - 2] = (byte)(((sums[n - 1] * 3) + sums[n - 2] + 8) >> 4);
        dst[(2 * n) - 1] = (byte)(((sums[n - 1] * 4) + 7) >> 4);
    }
}
