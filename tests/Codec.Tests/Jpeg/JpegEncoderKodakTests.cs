using System.Security.Cryptography;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>
/// The 24 full Kodak photos against SHA-256 hashes of the oracles' output (testdata/jpeg-enc/kodak-sha256.txt,
/// made by scripts/make-jpeg-encoder-goldens.sh): the paper's image-only setting, Pillow's q75 full
/// stream, and cjpeg q95 4:4:4 with optimized tables.
/// </summary>
public class JpegEncoderKodakTests
{
    private static readonly Dictionary<string, JpegEncoderOptions> Settings = new()
    {
        ["paper"] = JpegEncoderOptions.Paper,
        ["pillow-q75"] = new JpegEncoderOptions { Quality = 75 },
        ["cjpeg-q95-444-opt"] = new JpegEncoderOptions { Quality = 95, Subsampling = JpegSubsampling.S444, OptimizeHuffman = true },
    };

    [SkippableFact]
    public void Every_kodak_photo_encodes_to_the_reference_hash()
    {
        Skip.If(TestPaths.SharedData is null, "../shared/data is absent: the Kodak photos are only in this workplace");
        string[] lines = [.. File.ReadLines(TestPaths.Data("jpeg-enc", "kodak-sha256.txt")).Where(l => !l.StartsWith('#'))];
        Assert.Equal(72, lines.Length);
        var encoders = Settings.ToDictionary(kv => kv.Key, kv => new JpegEncoder(kv.Value));
        var mismatches = new List<string>();
        PixelImage? image = null;
        string? loaded = null;
        foreach (string line in lines)
        {
            string[] f = line.Split(' ');
            if (loaded != f[0])
            {
                image = PngCodec.Read(File.ReadAllBytes(Path.Combine(TestPaths.SharedData!, "kodak", f[0])));
                loaded = f[0];
            }

            string actual = Convert.ToHexStringLower(SHA256.HashData(encoders[f[1]].Encode(image!)));
            if (actual != f[2])
            {
                mismatches.Add($"{f[0]} {f[1]}");
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {lines.Length} differ: {string.Join(", ", mismatches)}");
    }
}
