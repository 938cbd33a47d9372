using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>
/// Random damage to valid files (bit flips, inserted, deleted and overwritten bytes, truncation) with a
/// fixed seed: the decoder may succeed or throw <see cref="JpegFormatException"/>, nothing else, in both
/// strict and tolerant mode, and never takes long.
/// </summary>
public class JpegDecoderMutationTests
{
    [Theory]
    [InlineData("cj_s420_odd.jpg", 1)]
    [InlineData("cj_prog_scans.jpg", 2)]
    [InlineData("cj_restart_mcu_q25.jpg", 3)]
    [InlineData("ff_422_odd.jpg", 4)]
    [InlineData("cj_gray_prog.jpg", 5)]
    [InlineData("cj_prog_restart.jpg", 6)]
    [InlineData("im_cmyk.jpg", 7)]
    [InlineData("cj_s_mixed2.jpg", 8)]
    public void Mutated_files_give_images_or_typed_errors(string file, int seed)
    {
        byte[] original = JpegGoldenFiles.Read(file);
        var random = new Random(seed);
        var strict = new JpegDecoderOptions { MaxPixels = 4_000_000 };
        var tolerant = new JpegDecoderOptions { MaxPixels = 4_000_000, Tolerant = true };
        int typedErrors = 0;
        for (int round = 0; round < 150; round++)
        {
            byte[] mutated = Mutate(original, random);
            string what = $"{file} round {round}";
            if (JpegDecoderBadInputTests.DecodeExpectingOnlyTypedErrors(mutated, strict, what, TimeSpan.FromSeconds(5)) != null)
            {
                typedErrors++;
            }

            JpegDecoderBadInputTests.DecodeExpectingOnlyTypedErrors(mutated, tolerant, what + " (tolerant)", TimeSpan.FromSeconds(5));
        }

        Assert.InRange(typedErrors, 1, 150); // The mutations do reach the error paths.
    }

    private static byte[] Mutate(byte[] data, Random random)
    {
        var bytes = new List<byte>(data);
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits && bytes.Count > 2; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                case 2:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(8)));
                    break;
                case 3:
                    bytes[at] = random.Next(2) == 0 ? (byte)0xFF : (byte)random.Next(256);
                    break;
                default:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
            }
        }

        return [.. bytes];
    }
}
