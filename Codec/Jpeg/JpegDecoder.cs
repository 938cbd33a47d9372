using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Decodes baseline, extended-sequential and progressive Huffman JPEG (T.81 processes SOF0, SOF1, SOF2;
/// 8-bit; 1, 3 or 4 components; any sampling factors libjpeg accepts; restart intervals; interleaved
/// and non-interleaved scans) to pixels identical to libjpeg-turbo's <c>djpeg -dct int</c> with its
/// default fancy upsampling. Image-only (Motion-JPEG) streams decode with the Annex K Huffman tables
/// and with DQT/DHT from <see cref="JpegDecoderOptions.Tables"/>. Malformed input raises
/// <see cref="JpegFormatException"/> with the byte offset (and MCU inside a scan); lossless,
/// hierarchical, arithmetic-coded and 12-bit streams raise it as unsupported.
/// </summary>
public static class JpegDecoder
{
    /// <summary>Decodes a JPEG to an 8-bit grey (1 component) or RGB image.</summary>
    /// <param name="jpeg">The whole JPEG stream.</param>
    /// <param name="options">Tables, tolerant mode and the pixel limit; null for defaults.</param>
    /// <exception cref="JpegFormatException">The stream is malformed, unsupported or over the pixel limit.</exception>
    public static PixelImage Decode(ReadOnlySpan<byte> jpeg, JpegDecoderOptions? options = null)
        => DecodeDetailed(jpeg, options).Image;

    /// <summary>Decodes a JPEG and returns the image with the frame facts and, in tolerant mode, the damaged intervals.</summary>
    /// <param name="jpeg">The whole JPEG stream.</param>
    /// <param name="options">Tables, tolerant mode and the pixel limit; null for defaults.</param>
    /// <exception cref="JpegFormatException">The stream is malformed, unsupported or over the pixel limit.</exception>
    public static JpegDecodeResult DecodeDetailed(ReadOnlySpan<byte> jpeg, JpegDecoderOptions? options = null)
        => DecodeCore(jpeg, options, null);

    /// <summary>
    /// Decodes into an existing image of the frame's size and channel count (1 for grey JPEGs, 3 otherwise),
    /// avoiding a fresh output allocation per call, as when decoding many frames of one size.
    /// </summary>
    /// <param name="jpeg">The whole JPEG stream.</param>
    /// <param name="destination">Receives the pixels; its size and channels must match the frame.</param>
    /// <param name="options">Tables, tolerant mode and the pixel limit; null for defaults.</param>
    /// <exception cref="JpegFormatException">The stream is malformed, unsupported or over the pixel limit.</exception>
    /// <exception cref="ArgumentException">The destination's size or channel count differs from the frame's.</exception>
    public static JpegDecodeResult DecodeInto(ReadOnlySpan<byte> jpeg, PixelImage destination, JpegDecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return DecodeCore(jpeg, options, destination);
    }

    private static JpegDecodeResult DecodeCore(ReadOnlySpan<byte> jpeg, JpegDecoderOptions? options, PixelImage? destination)
    {
        options ??= new JpegDecoderOptions();
        var session = new JpegDecodingSession(options);
        try
        {
            if (!options.Tables.IsEmpty)
            {
                session.LoadTables(options.Tables.Span);
            }

            session.Run(jpeg);
            JpegFrame frame = session.Frame!;
            JpegColorSpace colorSpace = session.ColorSpace();
            if (frame.Progressive)
            {
                TransformCoefficients(frame);
            }

            foreach (FrameComponent c in frame.Components)
            {
                // A component no scan mentioned has no latched table and no samples; libjpeg outputs its
                // zero coefficients as mid-grey, and so do we.
                if (c.Quant == null)
                {
                    c.Plane.AsSpan().Fill(128);
                }
            }

            PaintGrey(frame);
            int channels = frame.Components.Length == 1 ? 1 : 3;
            if (destination != null && (destination.Width != frame.Width || destination.Height != frame.Height || destination.Channels != channels))
            {
                throw new ArgumentException($"destination is {destination.Width}x{destination.Height}x{destination.Channels}, the frame is {frame.Width}x{frame.Height}x{channels}", nameof(destination));
            }

            PixelImage image = Assemble(frame, colorSpace, destination);
            var info = new JpegFrameInfo(
                frame.Width,
                frame.Height,
                frame.Progressive,
                colorSpace,
                [.. frame.Components.Select(c => new JpegComponentInfo(c.Id, c.H, c.V, c.QuantSelector))],
                session.RestartInterval,
                session.ScanCount);
            return new JpegDecodeResult(image, info, [.. session.CorruptIntervals]);
        }
        finally
        {
            session.ReturnBuffers();
        }
    }

    /// <summary>Progressive frames: inverse-transform every block once all scans are in.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void TransformCoefficients(JpegFrame frame)
    {
        foreach (FrameComponent c in frame.Components)
        {
            if (c.Quant == null)
            {
                continue; // Never scanned: painted grey by the caller.
            }

            short[] coefficients = c.Coefficients!;
            for (int by = 0; by < c.BlocksHigh; by++)
            {
                for (int bx = 0; bx < c.BlocksWide; bx++)
                {
                    int block = (by * c.BlocksWide) + bx;
                    InverseDct.Transform(coefficients.AsSpan(block * 64, 64), c.Quant, c.Plane.AsSpan((by * 8 * c.Stride) + (bx * 8)), c.Stride);
                }
            }
        }
    }

    /// <summary>Tolerant mode: blocks of damaged intervals become flat 128 (all coefficients zero).</summary>
    private static void PaintGrey(JpegFrame frame)
    {
        foreach (FrameComponent c in frame.Components)
        {
            if (c.GreyBlocks is not bool[] grey)
            {
                continue;
            }

            for (int i = 0; i < grey.Length; i++)
            {
                if (grey[i])
                {
                    int by = i / c.BlocksWide, bx = i % c.BlocksWide;
                    for (int r = 0; r < 8; r++)
                    {
                        c.Plane.AsSpan((((by * 8) + r) * c.Stride) + (bx * 8), 8).Fill(128);
                    }
                }
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static PixelImage Assemble(JpegFrame frame, JpegColorSpace colorSpace, PixelImage? destination = null)
    {
        int width = frame.Width, height = frame.Height;
        FrameComponent[] comps = frame.Components;
        var upsamplers = new Upsampler[comps.Length];
        var rows = new byte[comps.Length][];
        for (int i = 0; i < comps.Length; i++)
        {
            upsamplers[i] = new Upsampler(frame, comps[i]);
            rows[i] = new byte[Math.Max(width, comps[i].SampleWidth * frame.MaxH) + 16];
        }

        // Every output byte is written below, so the new image need not be zeroed first.
        PixelImage image = destination ?? new PixelImage(width, height, comps.Length == 1 ? 1 : 3, GC.AllocateUninitializedArray<byte>(width * height * (comps.Length == 1 ? 1 : 3)));
        for (int y = 0; y < height; y++)
        {
            // Full-size components (luma in 4:2:0) are read from their planes in place.
            ReadOnlySpan<byte> r0 = upsamplers[0].RowView(y, rows[0]);
            Span<byte> dst = image.Row(y);
            if (comps.Length == 1)
            {
                r0[..width].CopyTo(dst);
                continue;
            }

            ReadOnlySpan<byte> r1 = upsamplers[1].RowView(y, rows[1]), r2 = upsamplers[2].RowView(y, rows[2]);
            switch (colorSpace)
            {
                case JpegColorSpace.YCbCr:
                    OutputColorConverter.YCbCrToRgb(r0, r1, r2, dst, width);
                    break;
                case JpegColorSpace.Rgb:
                    OutputColorConverter.PlanarToRgb(r0, r1, r2, dst, width);
                    break;
                default:
                    OutputColorConverter.CmykToRgb(r0, r1, r2, upsamplers[3].RowView(y, rows[3]), colorSpace == JpegColorSpace.Ycck, dst, width);
                    break;
            }
        }

        return image;
    }
}
