namespace JpegLm.Codec.Jpeg;

/// <summary>
/// How the colour components are laid out in the encoded frame. The names follow the usual J:a:b
/// notation; each value fixes the luma sampling factors (chroma is always 1x1), as libjpeg's
/// <c>cjpeg -sample HxV</c> does.
/// </summary>
public enum JpegSubsampling
{
    /// <summary>One component (luma only). An RGB image is converted with the JFIF luma weights.</summary>
    Gray,

    /// <summary>4:4:4 — Y 1x1, no chroma subsampling.</summary>
    S444,

    /// <summary>4:2:2 — Y 2x1: chroma halved horizontally.</summary>
    S422,

    /// <summary>4:2:0 — Y 2x2: chroma halved in both directions (libjpeg's and Pillow's default).</summary>
    S420,

    /// <summary>4:4:0 — Y 1x2: chroma halved vertically.</summary>
    S440,

    /// <summary>4:1:1 — Y 4x1: chroma quartered horizontally.</summary>
    S411,
}

/// <summary>
/// Which parts of an interchange stream are written, numbered like Pillow's <c>streamtype</c>.
/// </summary>
public enum JpegStreamKind
{
    /// <summary>A complete interchange stream: SOI, APP0, DQT, SOF0, DHT, [DRI], SOS, data, EOI.</summary>
    Full = 0,

    /// <summary>An abbreviated table specification: SOI, DQT, DHT, EOI (libjpeg's <c>jpeg_write_tables</c>).</summary>
    TablesOnly = 1,

    /// <summary>An abbreviated image stream without DQT/DHT: SOI, APP0, SOF0, [DRI], SOS, data, EOI.</summary>
    ImageOnly = 2,
}

/// <summary>
/// Settings of one <see cref="JpegEncoder"/>. The defaults are libjpeg's (<c>cjpeg</c> without options):
/// quality 75, 4:2:0, no restart markers, full stream, standard Annex K Huffman tables.
/// </summary>
public sealed record JpegEncoderOptions
{
    /// <summary>IJG quality 1..100 scaling the Annex K quantization tables.</summary>
    public int Quality { get; init; } = 75;

    /// <summary>Component layout; <see cref="JpegSubsampling.Gray"/> writes a one-component frame.</summary>
    public JpegSubsampling Subsampling { get; init; } = JpegSubsampling.S420;

    /// <summary>Restart interval in MCUs (0 = no DRI/RST markers), at most 65535.</summary>
    public int RestartInterval { get; init; }

    /// <summary>Which parts of the stream are written.</summary>
    public JpegStreamKind StreamKind { get; init; } = JpegStreamKind.Full;

    /// <summary>
    /// Two-pass optimal Huffman tables (libjpeg's <c>optimize_coding</c>, <c>cjpeg -optimize</c>) instead
    /// of the Annex K tables. Only meaningful for <see cref="JpegStreamKind.Full"/> streams.
    /// </summary>
    public bool OptimizeHuffman { get; init; }

    /// <summary>
    /// Clamp quantizer entries to 1..255 so the frame stays baseline (SOF0, 8-bit DQT), as Pillow and
    /// <c>cjpeg -baseline</c> do. When false, qualities below 25 can produce 16-bit tables and an SOF1
    /// frame, exactly as plain <c>cjpeg</c> does.
    /// </summary>
    public bool ForceBaseline { get; init; } = true;

    /// <summary>The JPEG-LM paper's setting: quality 25, 4:2:0, restart every MCU, image-only stream.</summary>
    public static JpegEncoderOptions Paper { get; } = new()
    {
        Quality = 25,
        Subsampling = JpegSubsampling.S420,
        RestartInterval = 1,
        StreamKind = JpegStreamKind.ImageOnly,
    };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> / <see cref="ArgumentException"/> for an invalid combination.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Quality, 1, nameof(Quality));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Quality, 100, nameof(Quality));
        ArgumentOutOfRangeException.ThrowIfLessThan(RestartInterval, 0, nameof(RestartInterval));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(RestartInterval, 65535, nameof(RestartInterval));
        if (!Enum.IsDefined(Subsampling))
        {
            throw new ArgumentOutOfRangeException(nameof(Subsampling), Subsampling, "unknown subsampling");
        }

        if (!Enum.IsDefined(StreamKind))
        {
            throw new ArgumentOutOfRangeException(nameof(StreamKind), StreamKind, "unknown stream kind");
        }

        if (OptimizeHuffman && StreamKind != JpegStreamKind.Full)
        {
            throw new ArgumentException("optimized Huffman tables need a full stream: an abbreviated stream's reader could not know them", nameof(OptimizeHuffman));
        }
    }

    /// <summary>Luma sampling factors (horizontal, vertical) of <see cref="Subsampling"/>; chroma is 1x1.</summary>
    public (int H, int V) LumaSamplingFactors => Subsampling switch
    {
        JpegSubsampling.S422 => (2, 1),
        JpegSubsampling.S420 => (2, 2),
        JpegSubsampling.S440 => (1, 2),
        JpegSubsampling.S411 => (4, 1),
        _ => (1, 1),
    };
}
