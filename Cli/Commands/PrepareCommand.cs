using System.Globalization;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.IO;
using JpegLm.Codec.Tokens;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm prepare</c>: a folder of images (or Fashion-MNIST's IDX files, or Y4M clips) → canonical JPEG
/// (H.264) files under a profile → BPE vocabulary → train/validation token shards, ready for <c>jpeglm train</c>.
/// </summary>
internal sealed class PrepareCommand : ICliCommand
{
    public string Name => "prepare";

    public string Summary => "turn a folder of images into BPE token shards under a codec profile";

    public string Usage => """
        jpeglm prepare --input DIR --output DATA [options]
          --profile P        jpeg-256-q25 (default: the paper's 256x256, q25, 4:2:0, restart every MCU),
                             fashion-mnist (32x32 grey q25, restart every MCU), avc-256x144-3fps (AVC-LM:
                             Y4M clips at 3 fps, fit+pad to 256x144, first 15 frames, QP 37), or a profile .json
          --merges N         BPE vocabulary size N (bytes + specials + learned merges; default 320 for JPEG
                             and 1024 for H.264, as in the papers)
          --keep-headers     keep the constant headers in the token stream (the paper's official code does)
          --tokenizer F      reuse this vocab.json instead of learning one
          --val-fraction F   fraction held out for validation (default 0.01)
          --bpe-sample N     streams BPE learns from (default 10000, the paper's)
          --threads N        parallel encoding (default: all cores; the output never depends on it)
          --limit N          use only the first N inputs (in sorted path order)
          --seed S           seed of the split and of the BPE sample (default 1)
        Inputs: .jpg/.jpeg/.png/.ppm/.pgm files found recursively, centre-cropped to the profile's aspect
        and resized (area down, bicubic up); or a folder holding train-images-idx3-ubyte(.gz) (Fashion-MNIST,
        e.g. /usr/share/datasets/fashion-mnist), padded to 32x32. Unreadable files are listed, never fatal.
        Writes DATA/profile.json, vocab.json, train.tok, val.tok, sources.txt, failures.txt.
        Example: jpeglm prepare --input photos/ --output data/ --profile jpeg-256-q25 --merges 320
        """;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new CliArgs(args, "keep-headers");
        string input = a.Required("input");
        string output = a.Required("output");
        string profileName = a.String("profile") ?? "jpeg-256-q25";
        int? vocabSizeOption = a.String("merges") == null ? null : a.Int("merges", 320, BpeVocabulary.FirstMerge, 65535);
        bool keepHeaders = a.Flag("keep-headers");
        string? tokenizer = a.String("tokenizer");
        double valFraction = a.Double("val-fraction", 0.01, 0, 0.5);
        int bpeSample = a.Int("bpe-sample", 10_000, 1);
        int threads = a.Int("threads", Environment.ProcessorCount, 1, 1024);
        int limit = a.Int("limit", 0, 0);
        int seed = a.Int("seed", 1);
        a.EnsureAllUsed(0);

        CodecProfile profile = ResolveProfile(profileName);
        if (keepHeaders)
        {
            profile = profile.WithKeepHeaders();
        }

        int vocabSize = vocabSizeOption ?? (profile is AvcProfile ? 1024 : 320);
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
            : ImageCorpus.EncodeFolder(input, (JpegProfile)profile, threads, limit, progress);
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
        "avc-256x144-3fps" => AvcProfile.Paper(),
        _ when File.Exists(name) => CodecProfile.Load(name),
        _ => throw new UsageException($"--profile: '{name}' is neither jpeg-256-q25, fashion-mnist, avc-256x144-3fps nor a profile file"),
    };
}
