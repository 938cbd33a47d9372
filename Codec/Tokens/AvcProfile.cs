using JpegLm.Codec.Avc;
using JpegLm.Codec.Avc.Encoder;
using JpegLm.Codec.Bitstream;
using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Tokens;

/// <summary>
/// The profile of an H.264 data set (AVC-LM: 256x144, 3 fps, the first 5 s = 15 frames, constant QP 37,
/// 3 references, one macroblock per slice). The stream's parameter sets (SPS, PPS) are the same for every
/// clip, so they are kept here and stripped from the token stream unless <see cref="CodecProfile.KeepHeaders"/>.
/// </summary>
public sealed class AvcProfile : CodecProfile
{
    /// <inheritdoc/>
    [System.Text.Json.Serialization.JsonIgnore]
    public override string Codec => "avc";

    /// <summary>Frame width in pixels.</summary>
    public int Width { get; set; } = 256;

    /// <summary>Frame height in pixels.</summary>
    public int Height { get; set; } = 144;

    /// <summary>Frames per second after frame selection.</summary>
    public int Fps { get; set; } = 3;

    /// <summary>Frames kept per clip (15 = the first 5 s at 3 fps).</summary>
    public int Frames { get; set; } = 15;

    /// <summary>Constant QP of P slices (I slices use QP − 3, as x264 does).</summary>
    public int Qp { get; set; } = 37;

    /// <summary>Reference frames.</summary>
    public int Refs { get; set; } = 3;

    /// <summary>Macroblocks per slice (1: every macroblock its own NAL, the paper's setting).</summary>
    public int SliceMaxMbs { get; set; } = 1;

    /// <summary>The Annex B bytes of the SPS and PPS NAL units every clip starts with (hex).</summary>
    public string ParameterSetsHex { get; set; } = "";

    /// <summary>The AVC-LM paper's profile.</summary>
    public static AvcProfile Paper() => Create("avc-256x144-3fps", 256, 144, 3, 15, 37, 3, 1);

    /// <summary>A profile with the parameter sets our encoder writes for these settings.</summary>
    public static AvcProfile Create(string name, int width, int height, int fps, int frames, int qp, int refs, int sliceMaxMbs)
    {
        var p = new AvcProfile { Name = name, Width = width, Height = height, Fps = fps, Frames = frames, Qp = qp, Refs = refs, SliceMaxMbs = sliceMaxMbs };
        using var stream = new MemoryStream();
        var frame = new Yuv420Frame(width, height);
        new AvcEncoder(width, height, p.EncoderOptions()).Encode(frame, stream);
        byte[] first = stream.ToArray();
        p = new AvcProfile
        {
            Name = name, Width = width, Height = height, Fps = fps, Frames = frames, Qp = qp, Refs = refs, SliceMaxMbs = sliceMaxMbs,
            ParameterSetsHex = Convert.ToHexString(first.AsSpan(0, ParameterSetsLength(first))),
        };
        p.Validate();
        return p;
    }

    /// <summary>The encoder settings that produce this profile's canonical streams.</summary>
    public AvcEncoderOptions EncoderOptions() => new()
    {
        Qp = Qp,
        Refs = Refs,
        SliceMaxMbs = SliceMaxMbs,
        FpsNumerator = Fps,
        FpsDenominator = 1,
    };

    /// <inheritdoc/>
    public override void Validate()
    {
        if (Width is < 16 or > 4096 || Height is < 16 or > 4096 || Fps is < 1 or > 240 || Frames < 1 || Qp is < 0 or > 51 || Refs is < 1 or > 16 || SliceMaxMbs < 0)
        {
            throw new ArgumentException($"AVC profile out of range: {Width}x{Height} at {Fps} fps, {Frames} frames, QP {Qp}, {Refs} refs");
        }

        if (ParameterSetsHex.Length == 0 || ParameterSetsHex.Length % 2 != 0)
        {
            throw new ArgumentException("AVC profile lacks its parameter sets");
        }
    }

    /// <inheritdoc/>
    /// <exception cref="AvcFormatException">The stream does not start with the profile's parameter sets.</exception>
    public override byte[] ToTokenBytes(ReadOnlySpan<byte> file)
    {
        if (KeepHeaders)
        {
            return file.ToArray();
        }

        byte[] header = Convert.FromHexString(ParameterSetsHex);
        if (!file.StartsWith(header))
        {
            throw new FormatException($"stream does not start with the parameter sets of profile '{Name}' (differs at byte {file.CommonPrefixLength(header)})");
        }

        return file[header.Length..].ToArray();
    }

    /// <inheritdoc/>
    public override byte[] FromTokenBytes(ReadOnlySpan<byte> tokenBytes)
        => KeepHeaders ? tokenBytes.ToArray() : [.. Convert.FromHexString(ParameterSetsHex), .. tokenBytes];

    /// <summary>Length of the leading SPS/PPS/AUD/SEI NAL units of an Annex B stream (up to its first slice NAL).</summary>
    public static int ParameterSetsLength(ReadOnlySpan<byte> stream)
    {
        int slice = AnnexBStartCodes.IndexOfSlice(stream, 0, firstInPicture: false);
        return slice < 0 ? stream.Length : slice;
    }
}
