namespace JpegLm.Codec.Avc;

/// <summary>One slice that failed to parse or decode, or a picture with uncovered macroblocks (reported by tolerant decoding and the checker).</summary>
/// <param name="Slice">0-based slice index in stream order (the paper's patch index); -1 for a picture whose slices leave macroblocks uncovered.</param>
/// <param name="ByteOffset">Byte offset of the slice's NAL unit in the stream.</param>
/// <param name="Reason">What was wrong.</param>
/// <param name="Frame">0-based picture index in decoding order.</param>
/// <param name="FirstMb">first_mb_in_slice, or -1 when the header itself was unreadable.</param>
public sealed record AvcSliceError(int Slice, long ByteOffset, string Reason, int Frame, int FirstMb);
