using System.Security.Cryptography;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>The committed decoder golden files of testdata/jpeg-dec/ and their manifest.</summary>
internal static class JpegGoldenFiles
{
    public sealed record Entry(string File, string Sha256, int Width, int Height, int Channels);

    public static string Folder => TestPaths.Data("jpeg-dec");

    public static IReadOnlyList<Entry> Manifest { get; } = Load();

    public static Entry Get(string file) => Manifest.Single(e => e.File == file);

    public static byte[] Read(string file) => File.ReadAllBytes(Path.Combine(Folder, file));

    public static string Sha256(ReadOnlySpan<byte> pixels) => Convert.ToHexStringLower(SHA256.HashData(pixels));

    /// <summary>Parses a binary PGM (P5) or PPM (P6) with maxval 255: (width, height, channels, pixels).</summary>
    public static (int Width, int Height, int Channels, byte[] Pixels) ReadPnm(byte[] data)
    {
        int pos = 0;
        var fields = new string[4];
        for (int f = 0; f < 4; f++)
        {
            while (char.IsWhiteSpace((char)data[pos]))
            {
                pos++;
            }

            int start = pos;
            while (!char.IsWhiteSpace((char)data[pos]))
            {
                pos++;
            }

            fields[f] = System.Text.Encoding.ASCII.GetString(data, start, pos - start);
        }

        pos++;
        int channels = fields[0] == "P5" ? 1 : fields[0] == "P6" ? 3 : throw new InvalidDataException("not P5/P6");
        return (int.Parse(fields[1]), int.Parse(fields[2]), channels, data[pos..]);
    }

    private static List<Entry> Load()
    {
        var list = new List<Entry>();
        foreach (string line in File.ReadAllLines(Path.Combine(Folder, "manifest.txt")))
        {
            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }

            string[] p = line.Split(' ');
            list.Add(new Entry(p[0], p[1], int.Parse(p[2]), int.Parse(p[3]), int.Parse(p[4])));
        }

        return list;
    }
}
