using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using JpegLm.Codec.Tokens;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm bench tokens DIR</c>: trains byte-level BPE on the token streams of the JPEG files in DIR
/// and measures training time, encode/decode throughput (single thread, median of several passes)
/// and tokens per image, each next to a reference pass over the same bytes measured in the same run.
/// </summary>
internal sealed class BenchTokensCommand : CliCommand
{
    private readonly Argument<string> _dir = CliOptions.Path("DIR", "folder of *.jpg written under the profile (make them with scripts/kodak-crops.py)");
    private readonly Option<int> _vocab = CliOptions.Number("--vocab", 320, BpeVocabulary.FirstMerge, BpeTrainer.MaxVocabularySize, "vocabulary size including 256 bytes and 3 specials");
    private readonly Option<int?> _count = CliOptions.OptionalNumber("--count", 1, int.MaxValue, "use at most N files, sorted by name (default: all)");
    private readonly Option<int> _passes = CliOptions.Number("--passes", 5, 1, 100, "timed encode/decode passes; the median is reported");
    private readonly Option<string?> _profile = CliOptions.Text("--profile", "P.json", "the profile the files were written under (default: the paper's, image-only 256x256 q25 4:2:0 restart 1)");

    public BenchTokensCommand()
        : base("tokens", "BPE training, encoding and decoding speed on a folder of JPEGs")
    {
        Add(_dir, _vocab, _count, _passes, _profile);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string dir = parsed.Value(_dir);
        int vocab = parsed.Value(_vocab);
        int count = parsed.GetValue(_count) ?? int.MaxValue;
        int passes = parsed.Value(_passes);
        string? profilePath = parsed.GetValue(_profile);
        if (!Directory.Exists(dir))
        {
            throw new UsageException($"no folder '{dir}'");
        }

        CodecProfile profile = profilePath == null ? JpegProfile.Paper() : CodecProfile.Load(profilePath);
        string[] files = [.. Directory.GetFiles(dir, "*.jpg").Order(StringComparer.Ordinal).Take(count)];
        if (files.Length == 0)
        {
            throw new UsageException($"no *.jpg in '{dir}'");
        }

        var docs = new List<byte[]>(files.Length);
        var used = new List<string>(files.Length);
        foreach (string f in files)
        {
            try
            {
                docs.Add(profile.ToTokenBytes(File.ReadAllBytes(f)));
                used.Add(f);
            }
            catch (FormatException e)
            {
                stderr.WriteLine($"jpeglm bench tokens: skipping {f}: {e.Message}");
            }
        }

        if (docs.Count == 0)
        {
            stderr.WriteLine($"jpeglm bench tokens: no file in '{dir}' fits profile '{profile.Name}'");
            return 1;
        }

        long bytes = docs.Sum(d => (long)d.Length);
        double mb = bytes / 1e6;
        TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        BpeTrainingResult trained = BpeTrainer.Train(docs, vocab);
        double trainSeconds = sw.Elapsed.TotalSeconds;
        double trainCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;

        var encoder = new BpeEncoder(trained.Vocabulary);
        var tokens = new int[docs.Max(d => d.Length)];
        var back = new byte[tokens.Length];
        var perImage = new List<int>(docs.Count);
        var referenceTimes = new List<double>();
        var encodeTimes = new List<double>();
        var decodeTimes = new List<double>();
        long checksum = 0;
        int[][] encoded = [.. docs.Select(d => encoder.Encode(d))];
        for (int i = 0; i < docs.Count; i++)
        {
            if (!trained.Vocabulary.Decode(encoded[i]).AsSpan().SequenceEqual(docs[i]))
            {
                stderr.WriteLine($"jpeglm bench tokens: round trip failed on {used[i]}");
                return 1;
            }
        }

        for (int pass = 0; pass < passes; pass++)
        {
            sw.Restart();
            foreach (byte[] d in docs)
            {
                d.AsSpan().CopyTo(back);
                checksum += back[d.Length / 2];
            }

            referenceTimes.Add(sw.Elapsed.TotalSeconds);
            sw.Restart();
            foreach (byte[] d in docs)
            {
                int n = encoder.Encode(d, tokens);
                if (pass == 0)
                {
                    perImage.Add(n);
                }
            }

            encodeTimes.Add(sw.Elapsed.TotalSeconds);
            sw.Restart();
            foreach (int[] t in encoded)
            {
                checksum += trained.Vocabulary.Decode(t, back);
            }

            decodeTimes.Add(sw.Elapsed.TotalSeconds);
        }

        perImage.Sort();
        double encode = Median(encodeTimes), decode = Median(decodeTimes), reference = Median(referenceTimes);
        var c = CultureInfo.InvariantCulture;
        stdout.WriteLine(string.Create(c, $"files {docs.Count}, token-stream bytes {bytes:N0} ({mb:F1} MB), profile '{profile.Name}'"));
        stdout.WriteLine(string.Create(c, $"train    {trainSeconds,8:F2} s   ({trainCpu:F2} s CPU)  vocabulary {trained.Vocabulary.Size} ({trained.Vocabulary.Merges.Count} merges)"));
        stdout.WriteLine(string.Create(c, $"encode   {mb / encode,8:F1} MB/s  (median of {passes}; {reference / encode:F4}x memcpy)"));
        stdout.WriteLine(string.Create(c, $"decode   {mb / decode,8:F1} MB/s  ({reference / decode:F4}x memcpy)"));
        stdout.WriteLine(string.Create(c, $"memcpy   {mb / reference,8:F1} MB/s  (reference, same run; checksum {checksum & 0xFF})"));
        stdout.WriteLine(string.Create(c, $"tokens/image  mean {perImage.Average():F0}  median {perImage[perImage.Count / 2]}  min {perImage[0]}  max {perImage[^1]}  (+2 for BOS/EOS)"));
        stdout.WriteLine(string.Create(c, $"bytes/token   {(double)bytes / perImage.Sum(x => (long)x):F3}"));
        return 0;
    }

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s[s.Count / 2];
    }
}
