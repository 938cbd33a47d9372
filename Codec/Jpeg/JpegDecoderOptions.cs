namespace JpegLm.Codec.Jpeg;

/// <summary>Settings of <see cref="JpegDecoder"/>.</summary>
public sealed class JpegDecoderOptions
{
    /// <summary>The default <see cref="MaxPixels"/>: 100 megapixels.</summary>
    public const long DefaultMaxPixels = 100_000_000;

    /// <summary>
    /// Bytes of a tables-only stream (SOI DQT DHT EOI) or of any JPEG whose DQT/DHT segments (those
    /// before its first scan) define tables for an image-only stream, as Motion-JPEG frames rely on.
    /// Tables in the decoded stream itself override these.
    /// </summary>
    public ReadOnlyMemory<byte> Tables { get; init; }

    /// <summary>
    /// Tolerant mode for generated streams: a corrupt restart interval is reported in
    /// <see cref="JpegDecodeResult.CorruptIntervals"/> and painted flat mid-grey instead of failing, and
    /// decoding resynchronizes at the next restart marker; a missing tail is reported and grey too.
    /// Header errors (bad SOF, undefined tables, ...) still throw <see cref="JpegFormatException"/>.
    /// </summary>
    public bool Tolerant { get; init; }

    /// <summary>Largest accepted width · height; a larger frame header is rejected before any allocation.</summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;
}
