using System.Security.Cryptography;
using JpegLm.Codec.Avc;
using JpegLm.Codec.Imaging;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Avc;

/// <summary>Helpers shared by the H.264 tests: stream lists with expected MD5s, decoding to one MD5.</summary>
internal static class AvcTestStreams
{
    public static string CommittedConformanceDir => TestPaths.Data("avc", "conformance");

    public static string? SharedConformanceDir => TestPaths.SharedData is null ? null : Path.Combine(TestPaths.SharedData, "h264-conformance");

    /// <summary>Reads name, file and MD5 columns of a conformance.tsv.</summary>
    public static IEnumerable<(string Name, string File, string Md5)> ReadTsv(string dir)
    {
        foreach (string line in File.ReadLines(Path.Combine(dir, "conformance.tsv")).Skip(1))
        {
            string[] f = line.Split('\t');
            if (f.Length >= 5)
            {
                yield return (f[0], Path.Combine(dir, f[1]), f[4]);
            }
        }
    }

    /// <summary>MD5 of the whole decoded output (raw yuv420p, output order, cropped) and the frame count.</summary>
    public static (string Md5, int Frames) DecodeMd5(string path, AvcDecoderOptions? options = null)
    {
        using FileStream fs = File.OpenRead(path);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        int frames = 0;
        foreach (Yuv420Frame f in new AvcDecoder(options ?? new AvcDecoderOptions()).Decode(fs))
        {
            md5.AppendData(f.Y);
            md5.AppendData(f.U);
            md5.AppendData(f.V);
            frames++;
        }

        return (Convert.ToHexStringLower(md5.GetHashAndReset()), frames);
    }
}
