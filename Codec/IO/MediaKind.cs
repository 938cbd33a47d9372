using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.IO;

/// <summary>
/// The one table of file kinds the tools read and write, and the one rule that tells them apart: an input is
/// recognised by its first bytes (JPEG SOI, Annex B start code, PNG signature, PNM magic, Y4M header) and only
/// when no signature matches by its extension, so <c>x.avc</c> decodes as H.264 and a PNG named <c>.jpg</c>
/// is read as a PNG. Outputs have no content yet, so their kind comes from the extension
/// (<see cref="FromExtension"/>) in the same table.
/// </summary>
public sealed class MediaKind
{
    /// <summary>How many leading bytes <see cref="Detect(string)"/> reads: enough for every signature.</summary>
    public const int HeadLength = 64;

    private readonly Func<ReadOnlySpan<byte>, bool>? _signature;

    private MediaKind(string name, bool isVideo, string[] extensions, Func<ReadOnlySpan<byte>, bool>? signature)
    {
        Name = name;
        IsVideo = isVideo;
        Extensions = extensions;
        _signature = signature;
    }

    /// <summary>A JPEG file: starts with SOI (FF D8).</summary>
    public static MediaKind Jpeg { get; } = new("JPEG", false, [".jpg", ".jpeg", ".jpe", ".jfif"],
        b => b.Length >= 2 && b[0] == 0xFF && b[1] == global::JpegLm.Codec.Jpeg.JpegMarkers.Soi);

    /// <summary>An H.264 Annex B elementary stream: (leading zeros and) a start code 00 00 01.</summary>
    public static MediaKind H264 { get; } = new("H.264", true, [".h264", ".264", ".avc", ".jsv", ".26l"], StartsWithStartCode);

    /// <summary>A PNG image.</summary>
    public static MediaKind Png { get; } = new("PNG", false, [".png"], PngCodec.IsPng);

    /// <summary>A PPM (colour Netpbm) image: P6 or P3.</summary>
    public static MediaKind Ppm { get; } = new("PPM", false, [".ppm", ".pnm"], b => PnmCodec.IsPnm(b) && b[1] is (byte)'6' or (byte)'3');

    /// <summary>A PGM (grey Netpbm) image: P5 or P2.</summary>
    public static MediaKind Pgm { get; } = new("PGM", false, [".pgm"], b => PnmCodec.IsPnm(b) && b[1] is (byte)'5' or (byte)'2');

    /// <summary>A YUV4MPEG2 video.</summary>
    public static MediaKind Y4m { get; } = new("Y4M", true, [".y4m"], b => b.StartsWith("YUV4MPEG2 "u8));

    /// <summary>Raw planar yuv420p frames, back to back: no header, so known by extension only.</summary>
    public static MediaKind Yuv { get; } = new("raw yuv420p", true, [".yuv"], null);

    /// <summary>Every kind, in the order signatures are tried.</summary>
    public static IReadOnlyList<MediaKind> All { get; } = [Jpeg, H264, Png, Ppm, Pgm, Y4m, Yuv];

    /// <summary>Extensions of the still-image kinds <see cref="ImageFile.Load"/> reads (for folder walks).</summary>
    public static IReadOnlySet<string> StillImageExtensions { get; } =
        All.Where(k => !k.IsVideo).SelectMany(k => k.Extensions).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>A short name for messages: "JPEG", "H.264", "PNG"...</summary>
    public string Name { get; }

    /// <summary>Whether the kind holds video (frames) rather than one still image.</summary>
    public bool IsVideo { get; }

    /// <summary>File extensions of the kind, lower case with the dot; the first is the usual one.</summary>
    public IReadOnlyList<string> Extensions { get; }

    /// <summary>The kind whose signature <paramref name="head"/> starts with, or null.</summary>
    public static MediaKind? FromContent(ReadOnlySpan<byte> head)
    {
        foreach (MediaKind kind in All)
        {
            if (kind._signature != null && kind._signature(head))
            {
                return kind;
            }
        }

        return null;
    }

    /// <summary>The kind named by the extension of <paramref name="path"/>, or null.</summary>
    public static MediaKind? FromExtension(string path)
    {
        string ext = Path.GetExtension(path);
        return All.FirstOrDefault(k => k.Extensions.Contains(ext, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>The kind of data whose first bytes are <paramref name="head"/>: by content, else by the extension of <paramref name="path"/>.</summary>
    public static MediaKind? Detect(ReadOnlySpan<byte> head, string? path) => FromContent(head) ?? (path == null ? null : FromExtension(path));

    /// <summary>The kind of the file at <paramref name="path"/>, reading its first <see cref="HeadLength"/> bytes.</summary>
    /// <exception cref="IOException">The file cannot be read (<see cref="FileNotFoundException"/> when absent).</exception>
    public static MediaKind? Detect(string path)
    {
        Span<byte> head = stackalloc byte[HeadLength];
        using FileStream stream = File.OpenRead(path);
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return Detect(head[..n], path);
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    // Annex B B.1: any number of zero bytes (leading_zero_8bits, zero_byte) then start_code_prefix_one_3bytes.
    private static bool StartsWithStartCode(ReadOnlySpan<byte> b)
    {
        int zeros = 0;
        while (zeros < b.Length && b[zeros] == 0)
        {
            zeros++;
        }

        return zeros >= 2 && zeros < b.Length && b[zeros] == 1;
    }
}
