using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;
using Xunit.Abstractions;

namespace JpegLm.Codec.Tests.Tokens;

public class FashionMnistProfileTests(ITestOutputHelper output)
{
    [Fact]
    public void Padded_samples_encode_under_the_grey_profile_strip_restore_and_pass_the_checker()
    {
        FashionMnist f = FashionMnist.Load(TestPaths.Data("tokens", "fashion-64-images-idx3-ubyte.gz"), TestPaths.Data("tokens", "fashion-64-labels-idx1-ubyte.gz"));
        JpegProfile profile = JpegProfile.FashionMnist();
        JpegEncoderOptions options = profile.EncoderOptions();
        var bodies = new List<byte[]>();
        for (int i = 0; i < f.Count; i++)
        {
            byte[] file = JpegEncoder.Encode(FashionMnist.PadTo32(f.Image(i)), options);
            byte[] body = profile.ToTokenBytes(file);
            Assert.Equal(file, profile.FromTokenBytes(body));
            JpegScanReport report = JpegScanChecker.CheckScan(body, 0, profile.TokenGrammar());
            Assert.True(report.IsValid);
            Assert.Equal(16, report.PatchCount);
            bodies.Add(body);
        }

        BpeTrainingResult bpe = BpeTrainer.Train(bodies, 320);
        output.WriteLine($"Fashion-MNIST 32x32 grey q25 r1: {bodies.Average(b => b.Length):F1} body bytes/image, " +
            $"{(double)bpe.Tokens / bodies.Count:F1} tokens/image with a 320 vocabulary learned on these {bodies.Count}");
        Assert.True(bpe.Tokens < bodies.Sum(b => b.Length));
    }
}
