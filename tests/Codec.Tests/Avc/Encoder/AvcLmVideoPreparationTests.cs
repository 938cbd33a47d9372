using JpegLm.Codec.Avc;
using JpegLm.Codec.Avc.Encoder;
using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Tests.Avc.Encoder;

public class AvcLmVideoPreparationTests
{
    [Fact]
    public void Selects_3_fps_fits_256x144_pads_black_and_encodes_a_decodable_stream()
    {
        // 2.4 s of 320x240 at 25 fps; every frame a flat grey that names its index.
        using var y4m = new MemoryStream();
        Y4mReader.WriteHeader(y4m, new Y4mHeader(320, 240, 25, 1));
        for (int i = 0; i < 60; i++)
        {
            var f = new Yuv420Frame(320, 240);
            Array.Fill(f.Y, (byte)(20 + (3 * i)));
            Array.Fill(f.U, (byte)128);
            Array.Fill(f.V, (byte)128);
            Y4mReader.WriteFrame(y4m, f);
        }

        y4m.Position = 0;
        using var reader = new Y4mReader(y4m);
        PreparedVideo v = AvcLmVideoPreparation.Prepare(reader);

        // 3 fps for 2.4 s: output times 0, 1/3, ..., 7/3 show input frames floor(k * 25 / 3).
        Assert.Equal(8, v.SourceFrames.Count);
        for (int k = 0; k < v.SourceFrames.Count; k++)
        {
            Yuv420Frame f = v.SourceFrames[k];
            Assert.Equal((256, 144), (f.Width, f.Height));
            Assert.Equal(20 + (3 * (k * 25 / 3)), f.Y[(72 * 256) + 128]);

            // 320x240 scales to 192x144: 32 black columns on each side.
            Assert.Equal(16, f.Y[(72 * 256) + 31]);
            Assert.Equal(16, f.Y[(72 * 256) + 224]);
            Assert.NotEqual(16, f.Y[(72 * 256) + 32]);
        }

        List<Yuv420Frame> decoded = [.. new AvcDecoder().Decode(new MemoryStream(v.Stream))];
        Assert.Equal(v.Reconstruction.Count, decoded.Count);
        for (int k = 0; k < decoded.Count; k++)
        {
            Assert.Equal(v.Reconstruction[k].Y, decoded[k].Y);
            Assert.Equal(v.Reconstruction[k].U, decoded[k].U);
        }
    }

    [Fact]
    public void Keeps_at_most_5_seconds()
    {
        IEnumerable<Yuv420Frame> Endless()
        {
            while (true)
            {
                yield return new Yuv420Frame(16, 16);
            }
        }

        Assert.Equal(15, AvcLmVideoPreparation.SelectFrames(Endless(), 29.97).Count());
        Assert.Equal(15, AvcLmVideoPreparation.SelectFrames(Endless(), 1).Count());
    }
}
