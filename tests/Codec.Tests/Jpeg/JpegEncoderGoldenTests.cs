using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>Byte equality with libjpeg-turbo (cjpeg) and Pillow's libjpeg path on every committed case.</summary>
public class JpegEncoderGoldenTests
{
    public static TheoryData<JpegEncoderGoldenCase> Cases() => [.. JpegEncoderGoldenCase.All()];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encoder_output_is_byte_identical_to_the_reference(JpegEncoderGoldenCase golden)
    {
        byte[] expected = golden.LoadExpected();
        byte[] actual = new JpegEncoder(golden.Options).Encode(golden.LoadInput());
        AssertSameBytes(expected, actual, golden.Name);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Scalar_reference_paths_give_the_same_bytes(JpegEncoderGoldenCase golden)
    {
        byte[] actual = new JpegEncoder(golden.Options, vectorize: false).Encode(golden.LoadInput());
        AssertSameBytes(golden.LoadExpected(), actual, golden.Name);
    }

    [Fact]
    public void One_encoder_reused_across_images_gives_the_same_bytes_as_fresh_ones()
    {
        var paper = JpegEncoderGoldenCase.All().Where(c => c.Tool == "pillow" && c.Options == JpegEncoderOptions.Paper).ToList();
        Assert.True(paper.Count >= 5);
        var encoder = new JpegEncoder(paper[0].Options);
        foreach (JpegEncoderGoldenCase golden in paper.Concat(paper))
        {
            Assert.Equal(golden.Options, encoder.Options);
            AssertSameBytes(golden.LoadExpected(), encoder.Encode(golden.LoadInput()), golden.Name);
        }
    }

    internal static void AssertSameBytes(byte[] expected, byte[] actual, string name)
    {
        int n = Math.Min(expected.Length, actual.Length);
        int first = 0;
        while (first < n && expected[first] == actual[first])
        {
            first++;
        }

        if (first < n || expected.Length != actual.Length)
        {
            Assert.Fail($"{name}: {actual.Length} bytes encoded, {expected.Length} expected; first difference at byte {first} " +
                        $"(expected 0x{(first < expected.Length ? expected[first] : -1):X2}, got 0x{(first < actual.Length ? actual[first] : -1):X2})");
        }
    }
}
