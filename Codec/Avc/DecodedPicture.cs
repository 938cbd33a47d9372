namespace JpegLm.Codec.Avc;

/// <summary>
/// A decoded frame in the decoded picture buffer: samples (full macroblock size, uncropped) and the
/// reference marking and ordering facts of clauses 8.2.1 and 8.2.4/8.2.5.
/// </summary>
internal sealed class DecodedPicture
{
    public DecodedPicture(int width, int height)
    {
        Width = width;
        Height = height;
        Y = new byte[width * height];
        U = new byte[width * height / 4];
        V = new byte[width * height / 4];
    }

    public int Width { get; }

    public int Height { get; }

    public byte[] Y { get; }

    public byte[] U { get; }

    public byte[] V { get; }

    /// <summary>A serial number unique per decoded picture (deblocking compares pictures by it).</summary>
    public int Id { get; set; }

    public int FrameNum { get; set; }

    /// <summary>FrameNumWrap (8-27), equal to PicNum for frames.</summary>
    public int FrameNumWrap { get; set; }

    public int LongTermFrameIdx { get; set; }

    public bool IsShortTerm { get; set; }

    public bool IsLongTerm { get; set; }

    public bool IsReference => IsShortTerm || IsLongTerm;

    public int Poc { get; set; }

    public bool NeededForOutput { get; set; }

    /// <summary>A frame inferred for a frame_num gap (8.2.5.2): referenced but never output.</summary>
    public bool NonExisting { get; set; }
}
