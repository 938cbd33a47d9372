using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Produces the entropy-coded segment of one baseline scan over all components, MCU row by MCU row:
/// colour conversion into per-component sample planes, edge padding and chroma downsampling exactly
/// as libjpeg's prep/downsample stages do, forward DCT, quantization, and Huffman coding (directly, or
/// after a statistics pass over stored coefficients when the tables are optimized). All working
/// memory is kept between images; nothing is allocated per block or per MCU.
/// </summary>
[SkipLocalsInit] // block buffers on the stack are always fully written before use
internal sealed class JpegScanEncoder
{
    private readonly JpegQuantizer _lumaQuantizer;
    private readonly JpegQuantizer _chromaQuantizer;
    private readonly JpegOutputBuffer _output;
    private readonly HuffmanEntropyEncoder _entropy;
    private readonly bool _vectorize;
    private byte[] _lumaPlane = [];
    private byte[] _cbPlane = [];
    private byte[] _crPlane = [];
    private byte[] _cbFull = [];
    private byte[] _crFull = [];
    private short[] _coefficients = [];
    private ulong[] _masks = [];

    /// <summary>Creates the scan encoder writing into <paramref name="output"/>.</summary>
    /// <param name="luma">Quantizer of table 0.</param>
    /// <param name="chroma">Quantizer of table 1.</param>
    /// <param name="output">Where the entropy-coded bytes go.</param>
    /// <param name="vectorize">False forces every scalar reference path (for tests of machines without AVX2).</param>
    public JpegScanEncoder(JpegQuantizer luma, JpegQuantizer chroma, JpegOutputBuffer output, bool vectorize = true)
    {
        _vectorize = vectorize;
        _lumaQuantizer = luma;
        _chromaQuantizer = chroma;
        _output = output;
        _entropy = new HuffmanEntropyEncoder(output);
    }

    /// <summary>
    /// Transforms the whole image and Huffman-codes it with the given tables into the output buffer
    /// (used when the tables are fixed in advance).
    /// </summary>
    public void EncodeDirect(ReadOnlySpan<byte> pixels, int channels, JpegFrameLayout layout, int restartInterval, HuffmanCodeTable[] tables)
    {
        Prepare(layout, storeAll: false);
        var coder = new ScanState(restartInterval);
        _entropy.Reset();
        for (int row = 0; row < layout.McusDown; row++)
        {
            FillPlanes(pixels, channels, layout, row);
            for (int col = 0; col < layout.McusAcross; col++)
            {
                TransformMcu(layout, row, col, 0);
                EmitMcu(layout, 0, ref coder, tables);
            }
        }

        _output.EnsureFree(16);
        _entropy.Flush();
    }

    /// <summary>Transforms the whole image into stored coefficients (first pass of optimized coding).</summary>
    public void TransformAll(ReadOnlySpan<byte> pixels, int channels, JpegFrameLayout layout)
    {
        Prepare(layout, storeAll: true);
        for (int row = 0; row < layout.McusDown; row++)
        {
            FillPlanes(pixels, channels, layout, row);
            for (int col = 0; col < layout.McusAcross; col++)
            {
                TransformMcu(layout, row, col, (row * layout.McusAcross) + col);
            }
        }
    }

    /// <summary>Counts DC/AC symbol frequencies of the stored coefficients: [dc0, ac0, dc1, ac1], 257 each.</summary>
    public void CountSymbols(JpegFrameLayout layout, int restartInterval, long[][] frequencies)
    {
        int lumaBlocks = layout.MaxH * layout.MaxV;
        Span<int> lastDc = stackalloc int[3];
        lastDc.Clear();
        int restartsToGo = restartInterval;
        for (int mcu = 0; mcu < layout.McuCount; mcu++)
        {
            if (restartInterval > 0)
            {
                if (restartsToGo == 0)
                {
                    lastDc.Clear();
                    restartsToGo = restartInterval;
                }

                restartsToGo--;
            }

            int baseBlock = mcu * layout.BlocksPerMcu;
            for (int b = 0; b < layout.BlocksPerMcu; b++)
            {
                int component = b < lumaBlocks ? 0 : b - lumaBlocks + 1;
                int slot = component == 0 ? 0 : 1;
                ReadOnlySpan<short> block = _coefficients.AsSpan((baseBlock + b) * 64, 64);
                HuffmanEntropyEncoder.CountBlock(block, _masks[baseBlock + b], block[0] - lastDc[component], frequencies[2 * slot], frequencies[(2 * slot) + 1]);
                lastDc[component] = block[0];
            }
        }
    }

    /// <summary>Huffman-codes the stored coefficients (second pass of optimized coding).</summary>
    public void EncodeStored(JpegFrameLayout layout, int restartInterval, HuffmanCodeTable[] tables)
    {
        var coder = new ScanState(restartInterval);
        _entropy.Reset();
        for (int mcu = 0; mcu < layout.McuCount; mcu++)
        {
            EmitMcu(layout, mcu, ref coder, tables);
        }

        _output.EnsureFree(16);
        _entropy.Flush();
    }

    private void Prepare(JpegFrameLayout layout, bool storeAll)
    {
        EnsureLength(ref _lumaPlane, layout.LumaPlaneStride * layout.McuHeight);
        if (layout.ComponentCount == 3)
        {
            EnsureLength(ref _cbPlane, layout.ChromaPlaneStride * 8);
            EnsureLength(ref _crPlane, layout.ChromaPlaneStride * 8);
            EnsureLength(ref _cbFull, layout.LumaPlaneStride * layout.MaxV);
            EnsureLength(ref _crFull, layout.LumaPlaneStride * layout.MaxV);
        }

        int mcus = storeAll ? layout.McuCount : 1;
        EnsureLength(ref _coefficients, checked(mcus * layout.BlocksPerMcu * 64));
        EnsureLength(ref _masks, checked(mcus * layout.BlocksPerMcu));
    }

    private static void EnsureLength<T>(ref T[] array, int length)
    {
        if (array.Length < length)
        {
            array = new T[length];
        }
    }

    /// <summary>
    /// Fills the sample planes of MCU row <paramref name="row"/>. Rows below the image repeat the last
    /// image row at full resolution only up to a whole downsampling group; further groups repeat the
    /// last output row of each component (libjpeg's expand_bottom_edge before and after downsampling).
    /// </summary>
    private void FillPlanes(ReadOnlySpan<byte> pixels, int channels, JpegFrameLayout layout, int row)
    {
        int width = layout.Width, maxV = layout.MaxV, lumaStride = layout.LumaPlaneStride, chromaStride = layout.ChromaPlaneStride;
        bool color = layout.ComponentCount == 3;
        bool subsampled = layout.MaxH * maxV > 1;
        int rowBytes = width * channels;
        int firstImageRow = row * layout.McuHeight;
        for (int group = 0; group < 8; group++)
        {
            int groupRow = firstImageRow + (group * maxV);
            if (groupRow >= layout.Height)
            {
                Span<byte> luma = _lumaPlane.AsSpan();
                for (int r = 0; r < maxV; r++)
                {
                    int target = (group * maxV) + r;
                    luma.Slice((target - 1) * lumaStride, lumaStride).CopyTo(luma.Slice(target * lumaStride, lumaStride));
                }

                if (color)
                {
                    _cbPlane.AsSpan((group - 1) * chromaStride, chromaStride).CopyTo(_cbPlane.AsSpan(group * chromaStride, chromaStride));
                    _crPlane.AsSpan((group - 1) * chromaStride, chromaStride).CopyTo(_crPlane.AsSpan(group * chromaStride, chromaStride));
                }

                continue;
            }

            for (int r = 0; r < maxV; r++)
            {
                int imageRow = Math.Min(groupRow + r, layout.Height - 1);
                // The row plus whatever follows it: vector loads may look past the row's end.
                ReadOnlySpan<byte> source = pixels[(imageRow * rowBytes)..];
                Span<byte> luma = _lumaPlane.AsSpan(((group * maxV) + r) * lumaStride, lumaStride);
                if (!color)
                {
                    if (channels == 3)
                    {
                        JpegColorConverter.RgbToLuma(source, width, luma, lumaStride);
                    }
                    else
                    {
                        JpegColorConverter.GrayToYCbCr(source, width, luma, default, default, lumaStride);
                    }

                    continue;
                }

                Span<byte> cb = subsampled ? _cbFull.AsSpan(r * lumaStride, lumaStride) : _cbPlane.AsSpan(group * chromaStride, chromaStride);
                Span<byte> cr = subsampled ? _crFull.AsSpan(r * lumaStride, lumaStride) : _crPlane.AsSpan(group * chromaStride, chromaStride);
                if (channels == 3)
                {
                    JpegColorConverter.RgbToYCbCr(source, width, luma, cb, cr, lumaStride, _vectorize);
                }
                else
                {
                    JpegColorConverter.GrayToYCbCr(source, width, luma, cb, cr, lumaStride);
                }
            }

            if (color && subsampled)
            {
                ChromaDownsampler.Downsample(_cbFull, lumaStride, layout.MaxH, maxV, _cbPlane.AsSpan(group * chromaStride, chromaStride), chromaStride, _vectorize);
                ChromaDownsampler.Downsample(_crFull, lumaStride, layout.MaxH, maxV, _crPlane.AsSpan(group * chromaStride, chromaStride), chromaStride, _vectorize);
            }
        }
    }

    /// <summary>
    /// DCT and quantization of every block of one MCU into coefficient slot <paramref name="slot"/>.
    /// Luma blocks wholly outside the image (right of or below it) are "dummy" blocks as in libjpeg's
    /// jccoefct.c: all AC zero and DC equal to the previous block's, so they cost two short codes.
    /// </summary>
    private void TransformMcu(JpegFrameLayout layout, int row, int col, int slot)
    {
        int blockIndex = slot * layout.BlocksPerMcu;
        bool pairs = _vectorize && _lumaQuantizer.IsVectorized && _chromaQuantizer.IsVectorized && ForwardDctPair.IsSupported;
        for (int yi = 0; yi < layout.MaxV; yi++)
        {
            for (int xi = 0; xi < layout.MaxH; xi++)
            {
                int bx = (col * layout.MaxH) + xi, by = (row * layout.MaxV) + yi;
                Span<short> block = _coefficients.AsSpan(blockIndex * 64, 64);
                if (pairs && xi + 1 < layout.MaxH && bx + 1 < layout.LumaWidthInBlocks && by < layout.LumaHeightInBlocks)
                {
                    // Two side-by-side luma blocks in one pass: their rows are 16 consecutive samples.
                    int at = (yi * 8 * layout.LumaPlaneStride) + (bx * 8);
                    _masks[blockIndex] = TransformPair(_lumaPlane, at, at + 8, layout.LumaPlaneStride, _lumaQuantizer, block, _coefficients.AsSpan((blockIndex + 1) * 64, 64), out _masks[blockIndex + 1]);
                    blockIndex += 2;
                    xi++;
                    continue;
                }

                if (bx >= layout.LumaWidthInBlocks || by >= layout.LumaHeightInBlocks)
                {
                    block.Clear();
                    block[0] = _coefficients[(blockIndex - 1) * 64];
                    _masks[blockIndex] = 0;
                }
                else
                {
                    _masks[blockIndex] = TransformBlock(_lumaPlane, layout.LumaPlaneStride, (yi * 8 * layout.LumaPlaneStride) + (bx * 8), _lumaQuantizer, block, _vectorize);
                }

                blockIndex++;
            }
        }

        if (layout.ComponentCount == 3 && pairs)
        {
            // Cb and Cr share the chroma quantizer, so they make a pair too.
            int offset = col * 8;
            _masks[blockIndex] = TransformPair(_cbPlane, _crPlane, offset, layout.ChromaPlaneStride, _chromaQuantizer, _coefficients.AsSpan(blockIndex * 64, 64), _coefficients.AsSpan((blockIndex + 1) * 64, 64), out _masks[blockIndex + 1]);
        }
        else if (layout.ComponentCount == 3)
        {
            int offset = col * 8;
            _masks[blockIndex] = TransformBlock(_cbPlane, layout.ChromaPlaneStride, offset, _chromaQuantizer, _coefficients.AsSpan(blockIndex * 64, 64), _vectorize);
            blockIndex++;
            _masks[blockIndex] = TransformBlock(_crPlane, layout.ChromaPlaneStride, offset, _chromaQuantizer, _coefficients.AsSpan(blockIndex * 64, 64), _vectorize);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe ulong TransformBlock(byte[] plane, int stride, int offset, JpegQuantizer quantizer, Span<short> zigZag, bool vectorize)
    {
        if (vectorize && quantizer.IsVectorized)
        {
            Unsafe.SkipInit(out Rows8 rows);
            ref Vector256<int> r0 = ref Unsafe.As<Rows8, Vector256<int>>(ref rows);
            fixed (byte* p = &plane[offset])
            {
                Vector256<int> center = Vector256.Create(128);
                for (int r = 0; r < 8; r++)
                {
                    Unsafe.Add(ref r0, r) = Avx2.ConvertToVector256Int32(p + (r * stride)) - center;
                }
            }

            ForwardDct.Transform(ref r0);
            return quantizer.Quantize(ref r0, zigZag);
        }

        Span<int> samples = stackalloc int[64];
        for (int r = 0; r < 8; r++)
        {
            for (int c = 0; c < 8; c++)
            {
                samples[(r * 8) + c] = plane[offset + (r * stride) + c] - 128;
            }
        }

        ForwardDct.TransformScalar(samples);
        return quantizer.QuantizeScalar(samples, zigZag);
    }

    /// <summary>Two blocks of one plane (at sample offsets <paramref name="offsetA"/>, <paramref name="offsetB"/>) through <see cref="ForwardDctPair"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong TransformPair(byte[] plane, int offsetA, int offsetB, int stride, JpegQuantizer quantizer, Span<short> zigZagA, Span<short> zigZagB, out ulong maskB)
        => TransformPair(plane, offsetA, plane, offsetB, stride, quantizer, zigZagA, zigZagB, out maskB);

    /// <summary>Same-offset blocks of two planes with the same stride (Cb and Cr).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong TransformPair(byte[] planeA, byte[] planeB, int offset, int stride, JpegQuantizer quantizer, Span<short> zigZagA, Span<short> zigZagB, out ulong maskB)
        => TransformPair(planeA, offset, planeB, offset, stride, quantizer, zigZagA, zigZagB, out maskB);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe ulong TransformPair(byte[] planeA, int offsetA, byte[] planeB, int offsetB, int stride, JpegQuantizer quantizer, Span<short> zigZagA, Span<short> zigZagB, out ulong maskB)
    {
        // Every block lies inside its plane (the planes cover whole MCU rows); checked once here, not per load.
        if ((uint)(offsetA + (7 * stride) + 8) > (uint)planeA.Length || (uint)(offsetB + (7 * stride) + 8) > (uint)planeB.Length)
        {
            throw new InvalidOperationException("block outside its sample plane");
        }

        Unsafe.SkipInit(out Rows8Wide rows);
        ref Vector512<int> r0 = ref Unsafe.As<Rows8Wide, Vector512<int>>(ref rows);
        fixed (byte* a = planeA)
        fixed (byte* b = planeB)
        {
            Vector512<int> center = Vector512.Create(128);
            for (int r = 0; r < 8; r++)
            {
                // Row r of A in lanes 0..7, row r of B in lanes 8..15.
                Vector128<byte> samples = Vector128.Create(*(ulong*)(a + offsetA + (r * stride)), *(ulong*)(b + offsetB + (r * stride))).AsByte();
                Unsafe.Add(ref r0, r) = Avx512F.ConvertToVector512Int32(samples) - center;
            }
        }

        ForwardDctPair.Transform(ref r0);
        return quantizer.QuantizeTwoBlocks(ref r0, zigZagA, zigZagB, out maskB);
    }

    /// <summary>Emits RSTn when due, then every block of the MCU in coefficient slot <paramref name="slot"/>.</summary>
    private void EmitMcu(JpegFrameLayout layout, int slot, ref ScanState state, HuffmanCodeTable[] tables)
    {
        _output.EnsureFree((layout.BlocksPerMcu * HuffmanEntropyEncoder.MaxBytesPerBlock) + 32);
        if (state.RestartInterval > 0)
        {
            if (state.RestartsToGo == 0)
            {
                _entropy.Flush();
                _output.WriteMarker((byte)(JpegMarkers.Rst0 + state.NextRestart));
                state.NextRestart = (state.NextRestart + 1) & 7;
                state.LastDc0 = state.LastDc1 = state.LastDc2 = 0;
                state.RestartsToGo = state.RestartInterval;
            }

            state.RestartsToGo--;
        }

        int lumaBlocks = layout.MaxH * layout.MaxV;
        int blockIndex = slot * layout.BlocksPerMcu;
        for (int b = 0; b < lumaBlocks; b++, blockIndex++)
        {
            ReadOnlySpan<short> block = _coefficients.AsSpan(blockIndex * 64, 64);
            _entropy.EncodeBlock(block, _masks[blockIndex], block[0] - state.LastDc0, tables[0], tables[1]);
            state.LastDc0 = block[0];
        }

        if (layout.ComponentCount == 3)
        {
            ReadOnlySpan<short> cb = _coefficients.AsSpan(blockIndex * 64, 64);
            _entropy.EncodeBlock(cb, _masks[blockIndex], cb[0] - state.LastDc1, tables[2], tables[3]);
            state.LastDc1 = cb[0];
            blockIndex++;
            ReadOnlySpan<short> cr = _coefficients.AsSpan(blockIndex * 64, 64);
            _entropy.EncodeBlock(cr, _masks[blockIndex], cr[0] - state.LastDc2, tables[2], tables[3]);
            state.LastDc2 = cr[0];
        }
    }

    /// <summary>Restart bookkeeping and DC predictions of the scan in progress.</summary>
    private struct ScanState(int restartInterval)
    {
        public readonly int RestartInterval = restartInterval;
        public int RestartsToGo = restartInterval;
        public int NextRestart;
        public int LastDc0;
        public int LastDc1;
        public int LastDc2;
    }

    /// <summary>Eight 256-bit rows of a block on the stack.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    private struct Rows8;

    /// <summary>Eight 512-bit rows (two blocks) on the stack.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 512)]
    private struct Rows8Wide;
}
