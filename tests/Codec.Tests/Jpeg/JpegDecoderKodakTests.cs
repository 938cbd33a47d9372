using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>
/// All 24 Kodak photos (shared data) through our encoder and back through the decoder at the paper's
/// setting and at q75: the decode must succeed at full size and stay close to the source. (Pixel identity
/// with djpeg is covered by the committed goldens; tests cannot run djpeg.)
/// </summary>
public class JpegDecoderKodakTests
{
    [SkippableTheory]
    [InlineData(25, 1, 24.0)] // kodim13 (fine texture) is the worst at about 25.3 dB.
    [InlineData(75, 0, 30.0)]
    public void Kodak_photos_round_trip_through_encoder_and_decoder(int quality, int restart, double minPsnr)
    {
        Skip.If(TestPaths.SharedData is null, "../shared/data is absent: the Kodak photos are only in this workplace");
        string[] files = [.. Directory.GetFiles(Path.Combine(TestPaths.SharedData!, "kodak"), "*.png").Order()];
        Assert.Equal(24, files.Length);
        var options = new JpegEncoderOptions { Quality = quality, RestartInterval = restart };
        foreach (string f in files)
        {
            PixelImage source = PngCodec.Read(File.ReadAllBytes(f)).ToRgb();
            byte[] jpeg = JpegEncoder.Encode(source, options);
            JpegDecodeResult r = JpegDecoder.DecodeDetailed(jpeg);
            Assert.Equal((source.Width, source.Height, 3), (r.Image.Width, r.Image.Height, r.Image.Channels));
            Assert.Equal(restart, r.Frame.RestartInterval);
            double psnr = ImageMetrics.Psnr(source, r.Image);
            Assert.True(psnr > minPsnr, $"{Path.GetFileName(f)} q{quality}: PSNR {psnr:F2} dB");
        }
    }
}
