using JpegLm.Codec.Avc;

namespace JpegLm.Codec.Bitstream;

/// <summary>
/// The byte patterns that delimit NAL units in an Annex B byte stream (clause B.2): the start code prefix
/// 00 00 01, and the end of a NAL unit at the next 00 00 00 or 00 00 01 (emulation prevention keeps both
/// out of a unit's payload). <see cref="AnnexBReader"/>, the incremental stream validator and the sampling
/// pipeline all split streams with these, so they agree on where every unit starts and ends.
/// </summary>
public static class AnnexBStartCodes
{
    /// <summary>
    /// Why a stream that ends with a start code followed by nothing (or only zero bytes) is refused: a start code
    /// announces a NAL unit, so the stream was cut short.
    /// </summary>
    public const string EndsAfterStartCode = "the stream ends right after a start code: the NAL unit it announces is missing (cut short)";

    /// <summary>Offset of the first start code prefix 00 00 01 at or after <paramref name="from"/>, or −1.</summary>
    public static int IndexOfStartCode(ReadOnlySpan<byte> data, int from)
    {
        if (from < 0 || from >= data.Length)
        {
            return -1;
        }

        ReadOnlySpan<byte> prefix = [0, 0, 1];
        int i = data[from..].IndexOf(prefix);
        return i < 0 ? -1 : from + i;
    }

    /// <summary>
    /// Offset of the first 00 00 00 or 00 00 01 at or after <paramref name="from"/> (where the NAL unit that
    /// contains <paramref name="from"/> ends, trailing zero bytes included), or −1 when the data ends first.
    /// </summary>
    public static int IndexOfNalEnd(ReadOnlySpan<byte> data, int from)
    {
        ReadOnlySpan<byte> twoZeros = [0, 0];
        int p = Math.Max(from, 0);
        while (p < data.Length)
        {
            // Two zeros are rare inside a payload (they are followed by 03 there), so a vectorized search
            // for them, with the third byte checked afterwards, is the fast path.
            int i = data[p..].IndexOf(twoZeros);
            if (i < 0 || p + i + 2 >= data.Length)
            {
                return -1;
            }

            p += i;
            if (data[p + 2] <= 1)
            {
                return p;
            }

            p++;
        }

        return -1;
    }

    /// <summary>
    /// Where the start code at <paramref name="startCode"/> begins when the zero_byte of a 4-byte start code
    /// (00 00 00 01) precedes it, not before <paramref name="notBefore"/>; otherwise <paramref name="startCode"/>.
    /// </summary>
    public static int IncludingZeroByte(ReadOnlySpan<byte> data, int startCode, int notBefore = 0) =>
        startCode > 0 && startCode - 1 >= notBefore && data[startCode - 1] == 0 ? startCode - 1 : startCode;

    /// <summary>
    /// Where the first slice NAL unit (nal_unit_type 1 or 5) whose start code lies at or after <paramref name="from"/>
    /// begins (its start code, a preceding zero byte included), or −1. With <paramref name="firstInPicture"/> only
    /// slices whose first payload bit is 1 count, i.e. first_mb_in_slice = ue(v) 0: the first slice of a picture.
    /// </summary>
    public static int IndexOfSlice(ReadOnlySpan<byte> data, int from, bool firstInPicture)
    {
        int need = firstInPicture ? 4 : 3; // the header byte, and for first_mb_in_slice the payload's first byte
        for (int sc = IndexOfStartCode(data, from); sc >= 0 && sc + need < data.Length; sc = IndexOfStartCode(data, sc + 3))
        {
            int type = data[sc + 3] & 31;
            if (type is (int)NalUnitType.Slice or (int)NalUnitType.IdrSlice && (!firstInPicture || (data[sc + 4] & 0x80) != 0))
            {
                return IncludingZeroByte(data, sc);
            }
        }

        return -1;
    }

    /// <summary>Offsets where each picture's first slice NAL unit begins (see <see cref="IndexOfSlice"/>).</summary>
    public static List<int> PictureStarts(ReadOnlySpan<byte> data)
    {
        var starts = new List<int>();
        for (int at = IndexOfSlice(data, 0, firstInPicture: true); at >= 0; at = IndexOfSlice(data, at + 3, firstInPicture: true))
        {
            starts.Add(at); // at + 3 is past this start code whether or not a zero byte was included
        }

        return starts;
    }
}
