using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Jpeg;

/// <summary>The colour space of the coded components, as libjpeg infers it from markers and component ids.</summary>
public enum JpegColorSpace
{
    /// <summary>One component: luminance only.</summary>
    Grayscale,

    /// <summary>Three components Y, Cb, Cr (JFIF, or Adobe transform 1, or ids 1, 2, 3).</summary>
    YCbCr,

    /// <summary>Three components coded as R, G, B (Adobe transform 0, or ids 'R', 'G', 'B').</summary>
    Rgb,

    /// <summary>Four components C, M, Y, K (Adobe transform 0, or no Adobe marker).</summary>
    Cmyk,

    /// <summary>Four components Y, Cb, Cr, K (Adobe transform 2).</summary>
    Ycck,
}

/// <summary>One component of the frame header (T.81 B.2.2).</summary>
/// <param name="Id">Component identifier Ci.</param>
/// <param name="HorizontalSampling">Hi, 1..4.</param>
/// <param name="VerticalSampling">Vi, 1..4.</param>
/// <param name="QuantTable">Tqi, 0..3.</param>
public readonly record struct JpegComponentInfo(int Id, int HorizontalSampling, int VerticalSampling, int QuantTable);

/// <summary>What the frame header and the scans said about the image.</summary>
/// <param name="Width">Samples per line X.</param>
/// <param name="Height">Number of lines Y.</param>
/// <param name="Progressive">True for SOF2 (progressive DCT, Huffman).</param>
/// <param name="ColorSpace">Colour space of the coded components.</param>
/// <param name="Components">The frame's components in header order.</param>
/// <param name="RestartInterval">MCUs per restart interval of the last scan (0: none).</param>
/// <param name="ScanCount">Number of scans decoded.</param>
public sealed record JpegFrameInfo(
    int Width,
    int Height,
    bool Progressive,
    JpegColorSpace ColorSpace,
    IReadOnlyList<JpegComponentInfo> Components,
    int RestartInterval,
    int ScanCount);

/// <summary>
/// A stretch of MCUs of one scan that could not be decoded in tolerant mode and was painted mid-grey.
/// </summary>
/// <param name="Scan">Index of the scan (0-based, in stream order).</param>
/// <param name="FirstMcu">First MCU of the stretch (scan order).</param>
/// <param name="McuCount">Number of MCUs painted grey.</param>
/// <param name="ByteOffset">Offset of the byte where the damage was detected (for a missing tail: the end of the data).</param>
/// <param name="Reason">What was wrong.</param>
public readonly record struct JpegCorruptInterval(int Scan, int FirstMcu, int McuCount, long ByteOffset, string Reason);

/// <summary>The decoded image with the frame description and, in tolerant mode, the damaged intervals.</summary>
/// <param name="Image">Grey for one component, RGB otherwise (CMYK is converted as djpeg's PPM writer does).</param>
/// <param name="Frame">Frame and scan facts.</param>
/// <param name="CorruptIntervals">Intervals painted grey (always empty outside tolerant mode).</param>
public sealed record JpegDecodeResult(PixelImage Image, JpegFrameInfo Frame, IReadOnlyList<JpegCorruptInterval> CorruptIntervals);
