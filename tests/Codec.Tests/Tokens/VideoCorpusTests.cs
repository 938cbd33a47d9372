using JpegLm.Codec.Avc;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Tokens;

public class VideoCorpusTests
{
    private static string MakeClip(string dir, int width, int height, int fps, int frames)
    {
        string path = Path.Combine(dir, $"clip-{width}x{height}.y4m");
        using var stream = File.Create(path);
        Y4mReader.WriteHeader(stream, new Y4mHeader(width, height, fps, 1));
        for (int f = 0; f < frames; f++)
        {
            var frame = new Yuv420Frame(width, height);
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    frame.Y[(y * width) + x] = (byte)(((x + (3 * f)) * 255 / width) ^ (y * 4));
                }
            }

            frame.U.AsSpan().Fill((byte)(100 + f));
            frame.V.AsSpan().Fill(140);
            Y4mReader.WriteFrame(stream, frame);
        }

        return path;
    }

    [Fact]
    public void Paper_pipeline_selects_three_fps_fits_pads_and_encodes_fifteen_decodable_frames()
    {
        string dir = TestPaths.NewTempDirectory();
        string clip = MakeClip(dir, 96, 64, 12, 12 * 6); // 6 s at 12 fps, 3:2 aspect
        AvcProfile profile = AvcProfile.Create("test-64x36", 64, 36, 3, 15, 37, 3, 1);
        using var reader = new Y4mReader(File.OpenRead(clip));
        byte[] stream = VideoCorpus.EncodeClip(reader, profile);
        List<Yuv420Frame> frames = [.. new AvcDecoder().Decode(new MemoryStream(stream))];
        Assert.Equal(15, frames.Count);
        Assert.All(frames, f => Assert.Equal((64, 36), (f.Width, f.Height)));
        // 96x64 fitted into 64x36 is 54x36 (even), centred: the padded columns are black (Y 16 ± coding error).
        Assert.InRange(frames[0].Y[(18 * 64) + 1], 0, 40);
        Assert.InRange(frames[0].Y[(18 * 64) + 62], 0, 40);
    }

    [Fact]
    public void Stripping_the_parameter_sets_and_restoring_them_is_exact()
    {
        string dir = TestPaths.NewTempDirectory();
        AvcProfile profile = AvcProfile.Create("test-32x32", 32, 32, 3, 4, 37, 3, 1);
        using var reader = new Y4mReader(File.OpenRead(MakeClip(dir, 32, 32, 3, 4)));
        byte[] stream = VideoCorpus.EncodeClip(reader, profile);
        byte[] body = profile.ToTokenBytes(stream);
        Assert.True(body.Length < stream.Length);
        Assert.Equal(stream, profile.FromTokenBytes(body));
        Assert.Equal(stream, profile.WithKeepHeaders().ToTokenBytes(stream));
        var back = (AvcProfile)CodecProfile.FromJson(profile.ToJson());
        Assert.Equal(profile.ParameterSetsHex, back.ParameterSetsHex);
        Assert.Throws<FormatException>(() => profile.ToTokenBytes(body));
    }
}
