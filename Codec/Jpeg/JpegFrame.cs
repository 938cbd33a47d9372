namespace JpegLm.Codec.Jpeg;

/// <summary>One component of the frame with its decoding state: sample plane, coefficients, predictor.</summary>
internal sealed class FrameComponent
{
    /// <summary>Component identifier Ci.</summary>
    public int Id;

    /// <summary>Position in the frame header.</summary>
    public int Index;

    /// <summary>Sampling factors Hi, Vi.</summary>
    public int H, V;

    /// <summary>Quantization table selector Tqi.</summary>
    public int QuantSelector;

    /// <summary>The quantization table latched when the component's first scan started (natural order).</summary>
    public int[]? Quant;

    /// <summary>Downsampled size in samples: ceil(X·Hi/Hmax) × ceil(Y·Vi/Vmax).</summary>
    public int SampleWidth, SampleHeight;

    /// <summary>Blocks per line and block rows of the MCU-padded plane (interleaved layout).</summary>
    public int BlocksWide, BlocksHigh;

    /// <summary>Blocks a non-interleaved scan covers: ceil(SampleWidth/8) × ceil(SampleHeight/8).</summary>
    public int ScanBlocksWide, ScanBlocksHigh;

    /// <summary>Decoded samples, BlocksWide·8 per row.</summary>
    public byte[] Plane = [];

    /// <summary>Progressive mode: quantized coefficients, 64 per block in natural order, BlocksWide per row.</summary>
    public short[]? Coefficients;

    /// <summary>Tolerant mode: blocks to paint mid-grey, or null when none.</summary>
    public bool[]? GreyBlocks;

    /// <summary>DC prediction (T.81 F.2.1.3.1), reset at each scan and restart.</summary>
    public int DcPredictor;

    /// <summary>Huffman tables selected by the current scan.</summary>
    public HuffmanDecodingTable? DcTable, AcTable;

    /// <summary>Bytes per plane row.</summary>
    public int Stride => BlocksWide * 8;

    /// <summary>Marks one block to be painted grey.</summary>
    public void MarkGrey(int blockRow, int blockColumn)
    {
        GreyBlocks ??= new bool[BlocksWide * BlocksHigh];
        GreyBlocks[(blockRow * BlocksWide) + blockColumn] = true;
    }
}

/// <summary>The frame header (T.81 B.2.2) with the derived MCU geometry.</summary>
internal sealed class JpegFrame
{
    public JpegFrame(int width, int height, bool progressive, FrameComponent[] components)
    {
        Width = width;
        Height = height;
        Progressive = progressive;
        Components = components;
        foreach (FrameComponent c in components)
        {
            MaxH = Math.Max(MaxH, c.H);
            MaxV = Math.Max(MaxV, c.V);
        }

        McusWide = DivCeil(width, 8 * MaxH);
        McusHigh = DivCeil(height, 8 * MaxV);
        foreach (FrameComponent c in components)
        {
            c.SampleWidth = DivCeil(width * c.H, MaxH);
            c.SampleHeight = DivCeil(height * c.V, MaxV);
            c.ScanBlocksWide = DivCeil(c.SampleWidth, 8);
            c.ScanBlocksHigh = DivCeil(c.SampleHeight, 8);
            c.BlocksWide = McusWide * c.H;
            c.BlocksHigh = McusHigh * c.V;
        }
    }

    public int Width { get; }

    public int Height { get; }

    public bool Progressive { get; }

    public FrameComponent[] Components { get; }

    public int MaxH { get; }

    public int MaxV { get; }

    /// <summary>MCUs per line and MCU rows of an interleaved scan.</summary>
    public int McusWide { get; }

    public int McusHigh { get; }

    /// <summary>Sum over components of the blocks of the padded planes.</summary>
    public long TotalBlocks
    {
        get
        {
            long n = 0;
            foreach (FrameComponent c in Components)
            {
                n += (long)c.BlocksWide * c.BlocksHigh;
            }

            return n;
        }
    }

    public static int DivCeil(int a, int b) => (int)(((long)a + b - 1) / b);
}
