using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>
/// Codec round trips as snapshots: each test image is encoded, decoded, and the decoded picture (PNG, compared
/// by pixels) and the stream's marker summary are compared with approved files in testdata/snapshots.
/// </summary>
public class JpegRoundTripSnapshotTests
{
    [Theory]
    [InlineData("paper-k05_64x64", "k05_64x64.ppm", 25, JpegSubsampling.S420, 1)]
    [InlineData("q75-s422-k20_257x131", "k20_257x131.ppm", 75, JpegSubsampling.S422, 0)]
    [InlineData("q50-s444-r3-k23_37x21", "k23_37x21.ppm", 50, JpegSubsampling.S444, 3)]
    [InlineData("q90-gray-k19_45x29", "k19_45x29.pgm", 90, JpegSubsampling.Gray, 0)]
    public void Encode_then_decode_matches_the_approved_picture_and_stream(string name, string input, int quality, JpegSubsampling sampling, int restart)
    {
        PixelImage image = PnmCodec.Read(File.ReadAllBytes(TestPaths.Data("jpeg-enc", "in", input)));
        byte[] jpeg = JpegEncoder.Encode(image, new JpegEncoderOptions { Quality = quality, Subsampling = sampling, RestartInterval = restart });
        PixelImage decoded = JpegDecoder.Decode(jpeg);
        Assert.Equal((image.Width, image.Height), (decoded.Width, decoded.Height));
        Snapshot.VerifyImage("jpeg-roundtrip-" + name, decoded);
        Snapshot.VerifyText("jpeg-roundtrip-" + name, JpegStreamSummary.Parse(jpeg).ToString());
    }
}
