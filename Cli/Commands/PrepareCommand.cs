using System.CommandLine;
using System.Globalization;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.IO;
using JpegLm.Codec.Tokens;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm prepare</c>: a folder of images (or Fashion-MNIST's IDX files, or Y4M clips) → canonical JPEG
/// (H.264) files under a profile → BPE vocabulary → train/validation token shards, ready for <c>jpeglm train</c>.
/// </summary>
internal sealed class PrepareCommand : CliCommand
{
    /// <summary>The vocabulary sizes of the papers: JPEG-LM's and AVC-LM's.</summary>
    private const int JpegVocabulary = 320, AvcVocabulary = 1024;

    private readonly Option<string> _input = CliOptions.Required("--input", "DIR", "folder of images (.jpg/.jpeg/.png/.ppm/.pgm, recursively), Fashion-MNIST's IDX files, or Y4M clips");
    private readonly Option<string> _output = CliOptions.Required("--output", "DATA", "folder for profile.json, vocab.json, train.tok, val.tok, sources.txt, failures.txt");
    private readonly Option<string> _profile = CliOptions.Text("--profile", "P", "jpeg-256-q25: the paper's 256x256, q25, 4:2:0, restart every MCU; fashion-mnist: 32x32 grey q25; fashion-mnist-pixels: the ImageGPT-style baseline, 1,024 raw grey pixels per image; avc-256x144-3fps (AVC-LM: Y4M clips at 3 fps, fit+pad to 256x144, first 15 frames, QP 37); or a profile .json", "jpeg-256-q25", "jpeg-256-q25", "fashion-mnist", "fashion-mnist-pixels", "avc-256x144-3fps");
    private readonly Option<int?> _merges = CliOptions.OptionalNumber("--merges", BpeVocabulary.FirstMerge, 65535, $"BPE vocabulary size: bytes + specials + learned merges (default {JpegVocabulary} for JPEG, {AvcVocabulary} for H.264, as in the papers)");
    private readonly Option<bool> _keepHeaders = CliOptions.Flag("--keep-headers", "keep the constant headers in the token stream (the paper's official code does)");
    private readonly Option<string?> _tokenizer = CliOptions.Text("--tokenizer", "VOCAB.json", "reuse this vocab.json instead of learning one");
    private readonly Option<double> _valFraction = CliOptions.Number("--val-fraction", 0.01, 0, 0.5, "fraction held out for validation (Fashion-MNIST keeps its own t10k test set as the validation shard, with train.labels/val.labels)", "F");
    private readonly Option<int> _bpeSample = CliOptions.Number("--bpe-sample", 10_000, 1, int.MaxValue, "streams BPE learns from (the paper's number)");
    private readonly Option<int> _threads = CliOptions.Number("--threads", Environment.ProcessorCount, 1, 1024, "parallel encoding (default: all cores; the output never depends on it)");
    private readonly Option<int> _limit = CliOptions.Number("--limit", 0, 0, int.MaxValue, "use only the first N inputs in sorted path order (0: all)");
    private readonly Option<int> _seed = CliOptions.Number("--seed", 1, int.MinValue, int.MaxValue, "seed of the split and of the BPE sample", "S");

    public PrepareCommand()
        : base("prepare", "turn a folder of images (or clips) into BPE token shards under a codec profile", """
            Images are centre-cropped to the profile's aspect and resized (area down, bicubic up); Fashion-MNIST
            (a folder holding train-images-idx3-ubyte(.gz), e.g. /usr/share/datasets/fashion-mnist) is padded to
            32x32. Unreadable files are listed, never fatal.

            Example:
              jpeglm prepare --input photos/ --output data/ --profile jpeg-256-q25 --merges 320
            """)
    {
        Add(_input, _output, _profile, _merges, _keepHeaders, _tokenizer, _valFraction, _bpeSample, _threads, _limit, _seed);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string input = parsed.Value(_input);
        string output = parsed.Value(_output);
        string profileName = parsed.Value(_profile);
        int? vocabSizeOption = parsed.GetValue(_merges);
        bool keepHeaders = parsed.Value(_keepHeaders);
        string? tokenizer = parsed.GetValue(_tokenizer);
        double valFraction = parsed.Value(_valFraction);
        int bpeSample = parsed.Value(_bpeSample);
        int threads = parsed.Value(_threads);
        int limit = parsed.Value(_limit);
        int seed = parsed.Value(_seed);

        CodecProfile profile = ResolveProfile(profileName);
        if (keepHeaders)
        {
            profile = profile.WithKeepHeaders();
        }

        // The pixel baseline is ImageGPT's: one token per pixel value, no merges.
        int vocabSize = vocabSizeOption ?? profile switch { AvcProfile => AvcVocabulary, PixelProfile => BpeVocabulary.FirstMerge, _ => JpegVocabulary };
        if (!Directory.Exists(input))
        {
            stderr.WriteLine($"jpeglm prepare: input folder '{input}' does not exist");
            return 1;
        }

        BpeVocabulary? vocabulary = null;
        if (tokenizer != null)
        {
            try
            {
                vocabulary = BpeVocabulary.Load(tokenizer);
            }
            catch (Exception e) when (e is IOException or FormatException or System.Text.Json.JsonException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"jpeglm prepare: cannot read tokenizer {tokenizer}: {e.Message}");
                return 1;
            }
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        ConsoleProgress? bar = null;
        var gate = new object();
        Action<int, int> progress = (done, total) =>
        {
            lock (gate)
            {
                bar ??= new ConsoleProgress(stderr, total, profile is AvcProfile ? "clips" : "images");
                bar.Report(done);
            }
        };
        CorpusResult corpus = profile is AvcProfile video
            ? VideoCorpus.EncodeFolder(input, video, threads, limit, progress)
            : ImageCorpus.EncodeFolder(input, profile, threads, limit, progress);
        double encodeSeconds = clock.Elapsed.TotalSeconds;
        Directory.CreateDirectory(output);
        AtomicFile.WriteAllBytes(Path.Combine(output, "sources.txt"), System.Text.Encoding.UTF8.GetBytes(string.Join('\n', corpus.Sources) + "\n"));
        AtomicFile.WriteAllBytes(Path.Combine(output, "failures.txt"), System.Text.Encoding.UTF8.GetBytes(string.Concat(corpus.Failures.Select(f => $"{f.Source}\t{f.Reason}\n"))));
        foreach (CorpusFailure f in corpus.Failures.Take(10))
        {
            stderr.WriteLine($"skipped {f.Source}: {f.Reason}");
        }

        if (corpus.Failures.Count > 10)
        {
            stderr.WriteLine($"... and {corpus.Failures.Count - 10} more (see {Path.Combine(output, "failures.txt")})");
        }

        if (corpus.Files.Count == 0)
        {
            stderr.WriteLine($"jpeglm prepare: no usable images in {input} ({corpus.Failures.Count} unreadable)");
            return 1;
        }

        DatasetPreparationResult result = DatasetPreparer.Prepare(corpus.Files, profile, output, new DatasetPreparationOptions
        {
            VocabularySize = vocabSize,
            Vocabulary = vocabulary,
            ValidationFraction = valFraction,
            BpeSampleCount = bpeSample,
            Seed = seed,
            TokenWidth = (vocabulary?.Size ?? vocabSize) <= 65536 ? 2 : 4,
            MaxDegreeOfParallelism = threads,
            TestCount = corpus.TestCount,
            Labels = corpus.Labels,
        });

        string unit = profile is AvcProfile ? "clip" : "image";
        long tokens = result.TrainShard.TokenCount + result.ValidationShard.TokenCount;
        long docs = result.TrainShard.DocumentCount + result.ValidationShard.DocumentCount;
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{output}: {corpus.Files.Count} {unit}s ({corpus.Failures.Count} skipped) under profile {profile.Name}; encoded in {encodeSeconds:F1} s ({corpus.Files.Count / Math.Max(1e-9, encodeSeconds):F1} {unit}s/s)"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  vocabulary {result.Vocabulary.Size} tokens ({(vocabulary == null ? $"learned in {result.BpeSeconds:F1} s" : "reused")}); {result.TokenBytes} stream bytes -> {tokens} tokens ({(double)result.TokenBytes / Math.Max(1, tokens - (2 * docs)):F2} bytes/token, {(double)tokens / Math.Max(1, docs):F0} tokens/{unit})"));
        stdout.WriteLine($"  train.tok: {result.TrainShard.DocumentCount} documents, {result.TrainShard.TokenCount} tokens; val.tok: {result.ValidationShard.DocumentCount} documents, {result.ValidationShard.TokenCount} tokens");
        return 0;
    }

    /// <summary>A built-in profile name or a profile JSON path.</summary>
    internal static CodecProfile ResolveProfile(string name) => name switch
    {
        "jpeg-256-q25" or "paper" => JpegProfile.Paper(),
        "fashion-mnist" or "jpeg-grey-32" => JpegProfile.FashionMnist(),
        "fashion-mnist-pixels" => PixelProfile.FashionMnist(),
        "avc-256x144-3fps" => AvcProfile.Paper(),
        _ when File.Exists(name) => CodecProfile.Load(name),
        _ => throw new UsageException($"--profile: '{name}' is neither jpeg-256-q25, fashion-mnist, fashion-mnist-pixels, avc-256x144-3fps nor a profile file"),
    };
}
