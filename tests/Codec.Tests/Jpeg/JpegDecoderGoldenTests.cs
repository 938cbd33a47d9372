using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>Pixel identity with <c>djpeg -dct int</c> on every committed golden JPEG.</summary>
public class JpegDecoderGoldenTests
{
    public static TheoryData<string> GoldenFiles()
    {
        var data = new TheoryData<string>();
        foreach (JpegGoldenFiles.Entry e in JpegGoldenFiles.Manifest)
        {
            data.Add(e.File);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenFiles))]
    public void Decoded_pixels_are_identical_to_djpeg(string file)
    {
        JpegGoldenFiles.Entry expected = JpegGoldenFiles.Get(file);
        PixelImage image = JpegDecoder.Decode(JpegGoldenFiles.Read(file));
        Assert.Equal((expected.Width, expected.Height, expected.Channels), (image.Width, image.Height, image.Channels));
        Assert.Equal(expected.Sha256, JpegGoldenFiles.Sha256(image.Pixels));
    }

    [Theory]
    [InlineData("cj_s420_odd.jpg", "expected/cj_s420_odd.ppm")]
    [InlineData("cj_gray_prog.jpg", "expected/cj_gray_prog.pgm")]
    public void Decoded_pixels_match_the_full_djpeg_output(string file, string pnm)
    {
        var (width, height, channels, pixels) = JpegGoldenFiles.ReadPnm(JpegGoldenFiles.Read(pnm));
        PixelImage image = JpegDecoder.Decode(JpegGoldenFiles.Read(file));
        Assert.Equal((width, height, channels), (image.Width, image.Height, image.Channels));
        int first = Enumerable.Range(0, pixels.Length).FirstOrDefault(i => pixels[i] != image.Pixels[i], -1);
        Assert.True(first < 0, first < 0 ? "" : $"first difference at pixel ({first / channels % width}, {first / channels / width}) channel {first % channels}: djpeg {pixels[first]}, ours {image.Pixels[first]}");
    }
}
