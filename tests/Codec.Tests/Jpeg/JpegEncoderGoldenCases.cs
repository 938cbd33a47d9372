using System.Globalization;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>
/// One line of testdata/jpeg-enc/cases.txt: an input image, the reference tool and its settings, and
/// the reference output testdata/jpeg-enc/out/NAME.jpg.
/// </summary>
public sealed record JpegEncoderGoldenCase(string Name, string Input, string Tool, JpegEncoderOptions Options)
{
    public override string ToString() => Name;

    public static IEnumerable<JpegEncoderGoldenCase> All()
    {
        foreach (string line in File.ReadLines(TestPaths.Data("jpeg-enc", "cases.txt")))
        {
            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }

            string[] f = line.Split(' ');
            var options = new JpegEncoderOptions
            {
                Quality = int.Parse(f[3], CultureInfo.InvariantCulture),
                Subsampling = f[4] switch
                {
                    "gray" => JpegSubsampling.Gray,
                    "444" => JpegSubsampling.S444,
                    "422" => JpegSubsampling.S422,
                    "420" => JpegSubsampling.S420,
                    "440" => JpegSubsampling.S440,
                    "411" => JpegSubsampling.S411,
                    _ => throw new FormatException(line),
                },
                RestartInterval = int.Parse(f[5], CultureInfo.InvariantCulture),
                StreamKind = f[6] switch
                {
                    "full" => JpegStreamKind.Full,
                    "tables" => JpegStreamKind.TablesOnly,
                    "image" => JpegStreamKind.ImageOnly,
                    _ => throw new FormatException(line),
                },
                OptimizeHuffman = f[7] == "1",
                ForceBaseline = f[8] == "1",
            };
            yield return new JpegEncoderGoldenCase(f[0], f[1], f[2], options);
        }
    }

    public PixelImage LoadInput() => PnmCodec.Read(File.ReadAllBytes(TestPaths.Data("jpeg-enc", "in", Input)));

    public byte[] LoadExpected() => File.ReadAllBytes(TestPaths.Data("jpeg-enc", "out", Name + ".jpg"));
}
