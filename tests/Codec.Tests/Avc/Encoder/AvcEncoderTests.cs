using System.Security.Cryptography;
using JpegLm.Codec.Avc;
using JpegLm.Codec.Avc.Encoder;
using JpegLm.Codec.Imaging;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Avc.Encoder;

public class AvcEncoderTests
{
    private static string Dir => TestPaths.Data("avc-enc");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (string line in File.ReadLines(Path.Combine(Dir, "cases.tsv")).Skip(1))
        {
            data.Add(line.Split('\t')[0]);
        }

        return data;
    }

    /// <summary>
    /// Each committed case: our decoder reproduces the encoder's reconstruction exactly, its MD5 is the
    /// one ffmpeg produced from our stream when the case was recorded (so the stream is pinned), and
    /// the grammar checker finds every slice valid.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Committed_case_decodes_to_the_reconstruction_and_ffmpegs_md5(string name)
    {
        string[] row = File.ReadLines(Path.Combine(Dir, "cases.tsv")).Select(l => l.Split('\t')).Single(f => f[0] == name);
        AvcEncoderOptions options = ParseOptions(row[2]);
        using var output = new MemoryStream();
        List<Yuv420Frame> recon;
        using (var reader = new Y4mReader(File.OpenRead(Path.Combine(Dir, row[1]))))
        {
            recon = AvcEncoder.EncodeY4m(reader, output, options);
        }

        byte[] stream = output.ToArray();
        List<Yuv420Frame> decoded = Decode(stream);
        AssertSameFrames(recon, decoded);
        Assert.Equal(row[3], Md5(decoded));
        AvcCheckResult check = AvcStreamChecker.Check(new MemoryStream(stream));
        Assert.True(check.Valid, $"checker found {check.Corrupt.Count} bad slices");
    }

    public static TheoryData<string, int, int> SyntheticCases() => new()
    {
        { "-", 48, 32 },
        { "--slice-max-mbs 0 --qpel --partitions", 50, 34 },
        { "--slice-max-mbs 5 --refs 2 --keyint 4 --i4x4-in-p", 66, 40 },
        { "--qp 20 --ipoffset 0 --partitions --refs 1", 33, 17 },
        { "--qp 51 --ipoffset 0 --no-deblock --range 4", 80, 48 },
        { "--qp 0 --ipoffset 0 --keyint 1", 24, 18 },
    };

    /// <summary>Synthetic moving content of odd sizes through every option: decoded == reconstruction.</summary>
    [Theory]
    [MemberData(nameof(SyntheticCases))]
    public void Synthetic_video_decodes_to_the_reconstruction(string args, int width, int height)
    {
        AvcEncoderOptions options = ParseOptions(args);
        var encoder = new AvcEncoder(width, height, options);
        using var output = new MemoryStream();
        var recon = new List<Yuv420Frame>();
        foreach (Yuv420Frame f in SyntheticFrames(width, height, 6))
        {
            recon.Add(encoder.Encode(f, output));
        }

        AssertSameFrames(recon, Decode(output.ToArray()));
        Assert.True(AvcStreamChecker.Check(new MemoryStream(output.ToArray())).Valid);
    }

    [Fact]
    public void Default_settings_write_one_slice_per_macroblock_with_x264s_header_fields()
    {
        var encoder = new AvcEncoder(40, 20);
        using var output = new MemoryStream();
        foreach (Yuv420Frame f in SyntheticFrames(40, 20, 3))
        {
            encoder.Encode(f, output);
        }

        Assert.Equal(3 * 3 * 2, encoder.SliceCount);
        var sps = SequenceParameterSet.Parse(new JpegLm.Codec.Bitstream.RbspReader(FirstNal(output.ToArray(), 7)), 1 << 20);
        Assert.Equal(66, sps.ProfileIdc);
        Assert.Equal(2, sps.PicOrderCntType);
        Assert.Equal(3, sps.MaxNumRefFrames);
        Assert.Equal(4, sps.Log2MaxFrameNum);
        Assert.Equal(40, sps.CroppedWidth);
        Assert.Equal(20, sps.CroppedHeight);
    }

    [Fact]
    public void Quality_improves_as_qp_drops()
    {
        Yuv420Frame[] frames = [.. SyntheticFrames(64, 48, 4)];
        double Psnr(int qp)
        {
            var encoder = new AvcEncoder(64, 48, new AvcEncoderOptions { Qp = qp });
            double sum = 0;
            foreach (Yuv420Frame f in frames)
            {
                Yuv420Frame r = encoder.Encode(f, Stream.Null);
                double mse = f.Y.Zip(r.Y, (a, b) => (double)(a - b) * (a - b)).Average();
                sum += 10 * Math.Log10(255 * 255 / Math.Max(mse, 1e-9));
            }

            return sum / frames.Length;
        }

        double p45 = Psnr(45), p37 = Psnr(37), p25 = Psnr(25);
        Assert.True(p25 > p37 + 3 && p37 > p45 + 3, $"PSNR at QP 25/37/45: {p25:F2} {p37:F2} {p45:F2}");
    }

    internal static AvcEncoderOptions ParseOptions(string args)
    {
        var o = new AvcEncoderOptions();
        string[] t = args == "-" ? [] : args.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < t.Length; i++)
        {
            int Next() => int.Parse(t[++i]);
            o = t[i] switch
            {
                "--qp" => o with { Qp = Next() },
                "--ipoffset" => o with { IntraQpOffset = Next() },
                "--refs" => o with { Refs = Next() },
                "--slice-max-mbs" => o with { SliceMaxMbs = Next() },
                "--keyint" => o with { Keyint = Next() },
                "--range" => o with { SearchRange = Next() },
                "--qpel" => o with { QuarterPel = true },
                "--partitions" => o with { InterPartitions = true },
                "--i4x4-in-p" => o with { Intra4x4InP = true },
                "--no-deblock" => o with { DisableDeblocking = true },
                _ => throw new ArgumentException($"unknown option {t[i]}"),
            };
        }

        return o;
    }

    /// <summary>A textured picture that pans and brightens over time, with noise (deterministic).</summary>
    internal static IEnumerable<Yuv420Frame> SyntheticFrames(int width, int height, int count)
    {
        var rng = new Random(width * 1000 + height);
        for (int n = 0; n < count; n++)
        {
            var f = new Yuv420Frame(width, height);
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    int u = x + (3 * n), v = y + n;
                    double s = 128 + (60 * Math.Sin(u * 0.3) * Math.Cos(v * 0.2)) + (((u / 8) + (v / 8)) % 2 * 30) + (n * 4);
                    f.Y[(y * width) + x] = (byte)Math.Clamp(s + rng.Next(-6, 7), 0, 255);
                }
            }

            for (int i = 0; i < f.U.Length; i++)
            {
                f.U[i] = (byte)(100 + ((i + n) % 37));
                f.V[i] = (byte)(160 - ((i * 3) % 41));
            }

            yield return f;
        }
    }

    private static List<Yuv420Frame> Decode(byte[] stream) => [.. new AvcDecoder().Decode(new MemoryStream(stream))];

    private static void AssertSameFrames(List<Yuv420Frame> expected, List<Yuv420Frame> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Width, actual[i].Width);
            Assert.Equal(expected[i].Height, actual[i].Height);
            Assert.True(expected[i].Y.AsSpan().SequenceEqual(actual[i].Y), $"frame {i}: luma differs");
            Assert.True(expected[i].U.AsSpan().SequenceEqual(actual[i].U), $"frame {i}: Cb differs");
            Assert.True(expected[i].V.AsSpan().SequenceEqual(actual[i].V), $"frame {i}: Cr differs");
        }
    }

    private static string Md5(List<Yuv420Frame> frames)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        foreach (Yuv420Frame f in frames)
        {
            md5.AppendData(f.Y);
            md5.AppendData(f.U);
            md5.AppendData(f.V);
        }

        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    private static byte[] FirstNal(byte[] stream, int type)
    {
        var reader = new JpegLm.Codec.Bitstream.AnnexBReader(new MemoryStream(stream));
        var rbsp = new byte[stream.Length];
        while (reader.TryRead(out ReadOnlySpan<byte> nal))
        {
            if ((nal[0] & 0x1F) == type)
            {
                int n = JpegLm.Codec.Bitstream.AnnexBReader.RemoveEmulationPrevention(nal[1..], rbsp);
                return rbsp[..n];
            }
        }

        throw new InvalidOperationException($"no NAL unit of type {type}");
    }
}
