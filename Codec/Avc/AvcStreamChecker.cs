namespace JpegLm.Codec.Avc;

/// <summary>The result of checking an H.264 stream's syntax slice by slice.</summary>
/// <param name="PatchCount">Number of slices (the paper's patches: one slice = one macroblock) in stream order.</param>
/// <param name="Corrupt">The slices that failed, in stream order.</param>
public sealed record AvcCheckResult(int PatchCount, IReadOnlyList<AvcSliceError> Corrupt)
{
    /// <summary>Whether every slice parsed.</summary>
    public bool Valid => Corrupt.Count == 0;
}

/// <summary>
/// The grammar checker: runs the slice parser on its own (no reconstruction) and reports per slice
/// whether the syntax is valid: Exp-Golomb values in range, legal mb_type / prediction modes /
/// ref_idx / mvd / coded_block_pattern, existing CAVLC codes with consistent counts, QP within
/// 0..51, intra modes whose neighbours are available, slice addresses inside the picture and
/// correct rbsp trailing bits with nothing left over.
/// </summary>
public static class AvcStreamChecker
{
    /// <summary>
    /// Checks <paramref name="stream"/>. Broken slices are listed; a broken parameter set or a stream
    /// without any NAL unit throws <see cref="AvcFormatException"/> (the stream is unreadable).
    /// </summary>
    public static AvcCheckResult Check(Stream stream, int maxFrameMacroblocks = 512 * 270)
    {
        var decoder = new AvcDecoder(new AvcDecoderOptions { ParseOnly = true, Tolerant = true, MaxFrameMacroblocks = maxFrameMacroblocks });
        foreach (var unused in decoder.Decode(stream))
        {
            _ = unused;
        }

        return new AvcCheckResult(decoder.SliceCount, decoder.Errors);
    }
}
