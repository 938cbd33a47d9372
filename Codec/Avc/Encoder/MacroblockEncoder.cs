using System.Runtime.CompilerServices;
namespace JpegLm.Codec.Avc.Encoder;

/// <summary>
/// Decides and codes one macroblock: mode decision by SATD plus λ·bits (intra in
/// <c>MacroblockEncoder.Intra.cs</c>, inter in <c>MacroblockEncoder.Inter.cs</c>), transform and
/// quantization into a <see cref="Macroblock"/> record, then reconstruction by the decoder's own
/// <see cref="MacroblockReconstructor"/> so the encoder's reference pictures are exactly what any
/// decoder rebuilds. Prediction is tried directly in the picture being reconstructed; the final
/// reconstruction overwrites every trial.
/// </summary>
[SkipLocalsInit]
internal sealed partial class MacroblockEncoder
{
    private readonly PictureState _state;
    private readonly MacroblockReconstructor _recon;
    private readonly MotionVectorPrediction _mvp;
    private readonly MacroblockWriter _writer;
    private readonly int[] _block = new int[16];
    private readonly int[] _dc = new int[16];

    public MacroblockEncoder(PictureState state, MacroblockWriter writer, AvcEncoderOptions options)
    {
        _state = state;
        _writer = writer;
        _recon = new MacroblockReconstructor(state);
        _mvp = new MotionVectorPrediction(state);
        Options = options;
    }

    public AvcEncoderOptions Options { get; }

    /// <summary>The decision for the last macroblock coded.</summary>
    public Macroblock Mb { get; } = new();

    /// <summary>Source samples padded to whole macroblocks (same layout as <see cref="Picture"/>).</summary>
    public byte[] SourceY { get; set; } = [];

    /// <summary>Source Cb, padded.</summary>
    public byte[] SourceU { get; set; } = [];

    /// <summary>Source Cr, padded.</summary>
    public byte[] SourceV { get; set; } = [];

    /// <summary>The picture being reconstructed.</summary>
    public DecodedPicture Picture
    {
        get => _recon.Picture;
        set => _recon.Picture = value;
    }

    /// <summary>RefPicList0 for P slices, most recent first.</summary>
    public IReadOnlyList<ReferenceFrame> References { get; set; } = [];

    /// <summary>Active references (num_ref_idx_l0_active_minus1 + 1).</summary>
    public int NumRefIdxActive { get; set; }

    /// <summary>Slice id of the macroblock (neighbour availability).</summary>
    public int SliceId
    {
        get => _recon.SliceId;
        set => _recon.SliceId = value;
    }

    /// <summary>QPY of the macroblocks of the current slice.</summary>
    public int Qp { get; set; }

    // λ for SAD/SATD decisions, x264's table: 2^((QP - 12) / 6).
    private int Lambda => (int)Math.Round(Math.Pow(2, (Qp - 12) / 6.0));

    private int Stride => Picture.Width;

    /// <summary>Sets the reference list used by reconstruction (call once per picture).</summary>
    public void SetReferences(IReadOnlyList<ReferenceFrame> references, int active)
    {
        References = references;
        NumRefIdxActive = active;
        var list = new DecodedPicture?[references.Count];
        for (int i = 0; i < list.Length; i++)
        {
            list[i] = references[i].Picture;
        }

        _recon.RefList = list;
    }

    /// <summary>Codes macroblock <paramref name="addr"/> of an I slice into <see cref="Mb"/> (not yet reconstructed).</summary>
    public void DecideIntra(int addr)
    {
        ResetRecord(addr);
        ChooseIntra(allowI4x4: true, out _);
    }

    /// <summary>Codes macroblock <paramref name="addr"/> of a P slice into <see cref="Mb"/> (not yet reconstructed).</summary>
    public void DecideInter(int addr)
    {
        ResetRecord(addr);
        ChooseInter();
    }

    /// <summary>Reconstructs <see cref="Mb"/> into <see cref="Picture"/> (after the writer committed it).</summary>
    public void Reconstruct() => _recon.Reconstruct(Mb);

    private void ResetRecord(int addr)
    {
        Macroblock mb = Mb;
        mb.Address = addr;
        mb.QpY = Qp;
        mb.QpDelta = 0;
        mb.AllRefZero = false;
        mb.CodedBlockPattern = 0;
        mb.LumaNonZero = 0;
        mb.ChromaAcNonZero = 0;
        Array.Clear(mb.RefIdx);
        Array.Clear(mb.Mvd);
        Array.Clear(mb.SubMbType);
    }

    private (int X, int Y) MbOrigin(int addr) => (addr % _state.WidthInMbs * 16, addr / _state.WidthInMbs * 16);

    // Residual of a 4x4 block: source minus the prediction now in the picture, forward transformed.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Residual4x4(byte[] src, byte[] pred, int off, int stride, Span<int> d)
    {
        for (int y = 0; y < 4; y++)
        {
            int r = off + (y * stride);
            for (int x = 0; x < 4; x++)
            {
                d[(y * 4) + x] = src[r + x] - pred[r + x];
            }
        }

        ForwardTransform.Forward4x4(d);
    }

    /// <summary>
    /// Chroma residual against the prediction now in the picture: DC (2x2 Hadamard) and AC levels
    /// into the record, coded_block_pattern bits 4..5. Inter blocks whose AC is only a few scattered
    /// ±1 levels are dropped (decimation).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CodeChroma(bool intra)
    {
        Macroblock mb = Mb;
        int qpc = InverseTransform.ChromaQp(Qp, 0);
        int cs = Stride / 2;
        (int x, int y) = MbOrigin(mb.Address);
        int origin = (y / 2 * cs) + (x / 2);
        int acNonZero = 0, dcNonZero = 0, score = 0;
        Span<int> blk = _block;
        for (int c = 0; c < 2; c++)
        {
            byte[] src = c == 0 ? SourceU : SourceV;
            byte[] pred = c == 0 ? Picture.U : Picture.V;
            Span<int> dc = mb.ChromaDc.AsSpan(c * 4, 4);
            for (int b = 0; b < 4; b++)
            {
                Residual4x4(src, pred, origin + ((b >> 1) * 4 * cs) + ((b & 1) * 4), cs, blk);
                dc[b] = blk[0];
                Span<int> ac = mb.ChromaAc.AsSpan(((c * 4) + b) * 16, 16);
                blk.CopyTo(ac);
                ac[0] = 0;
                if (ForwardTransform.Quantize4x4(ac, qpc, intra, 1) != 0)
                {
                    acNonZero |= 1 << ((c * 4) + b);
                    score += ForwardTransform.DecimateScore(ac, 1);
                }
            }

            dcNonZero += ForwardTransform.QuantizeChromaDc(dc, qpc, intra);
        }

        if (!intra && acNonZero != 0 && score < 7)
        {
            acNonZero = 0;
        }

        if (acNonZero == 0)
        {
            Array.Clear(mb.ChromaAc);
        }

        mb.ChromaAcNonZero = acNonZero;
        int chromaCbp = acNonZero != 0 ? 2 : dcNonZero != 0 ? 1 : 0;
        mb.CodedBlockPattern = (mb.CodedBlockPattern & 15) | (chromaCbp << 4);
    }

    /// <summary>
    /// Inter luma residual against the prediction now in the picture: 16 4x4 blocks, decimated per
    /// 8x8 (score &lt; 4) and per macroblock (score &lt; 6) as x264 does; sets cbp bits 0..3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CodeInterLuma()
    {
        Macroblock mb = Mb;
        (int x, int y) = MbOrigin(mb.Address);
        int stride = Stride;
        int origin = (y * stride) + x;
        int nonZero = 0, total = 0;
        Span<int> score8 = stackalloc int[4];
        score8.Clear();
        for (int raster = 0; raster < 16; raster++)
        {
            Span<int> c = mb.Luma.AsSpan(raster * 16, 16);
            Residual4x4(SourceY, Picture.Y, origin + ((raster >> 2) * 4 * stride) + ((raster & 3) * 4), stride, c);
            if (ForwardTransform.Quantize4x4(c, Qp, false, 0) != 0)
            {
                nonZero |= 1 << raster;
                score8[((raster >> 3) * 2) + ((raster & 3) >> 1)] += ForwardTransform.DecimateScore(c, 0);
            }
        }

        int cbp = 0;
        for (int b8 = 0; b8 < 4; b8++)
        {
            int mask = 0x33 << (((b8 >> 1) * 8) + ((b8 & 1) * 2));
            if ((nonZero & mask) != 0 && score8[b8] < 4)
            {
                nonZero &= ~mask;
            }

            if ((nonZero & mask) != 0)
            {
                cbp |= 1 << b8;
            }

            total += (nonZero & mask) != 0 ? score8[b8] : 0;
        }

        if (nonZero != 0 && total < 6)
        {
            nonZero = 0;
            cbp = 0;
        }

        for (int raster = 0; raster < 16; raster++)
        {
            if ((nonZero & (1 << raster)) == 0)
            {
                mb.Luma.AsSpan(raster * 16, 16).Clear();
            }
        }

        mb.LumaNonZero = nonZero;
        mb.CodedBlockPattern = (mb.CodedBlockPattern & 0x30) | cbp;
    }
}
