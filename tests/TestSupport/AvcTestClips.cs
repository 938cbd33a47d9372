using JpegLm.Codec.Avc.Encoder;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Tokens;

namespace JpegLm.TestSupport;

/// <summary>Small H.264 streams for tests, encoded with a profile's settings from painted frames.</summary>
public static class AvcTestClips
{
    /// <summary>
    /// Encodes <paramref name="frames"/> frames of the profile's size; <paramref name="paint"/> fills frame k
    /// (planes start zeroed). Returns the whole Annex B stream, parameter sets first.
    /// </summary>
    public static byte[] Encode(AvcProfile profile, int frames, Action<int, Yuv420Frame> paint)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(paint);
        var encoder = new AvcEncoder(profile.Width, profile.Height, profile.EncoderOptions());
        using var stream = new MemoryStream();
        for (int k = 0; k < frames; k++)
        {
            var frame = new Yuv420Frame(profile.Width, profile.Height);
            paint(k, frame);
            encoder.Encode(frame, stream);
        }

        return stream.ToArray();
    }
}
