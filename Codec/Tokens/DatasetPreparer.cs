using System.Diagnostics;

namespace JpegLm.Codec.Tokens;

/// <summary>Settings of <see cref="DatasetPreparer.Prepare"/>.</summary>
public sealed record DatasetPreparationOptions
{
    /// <summary>Vocabulary size to learn (the paper: about 320 for JPEG, 1024 for AVC).</summary>
    public int VocabularySize { get; init; } = 320;

    /// <summary>How many training streams BPE learns from (the paper: 10K images).</summary>
    public int BpeSampleCount { get; init; } = 10_000;

    /// <summary>A vocabulary to reuse instead of learning one (e.g. a model's).</summary>
    public BpeVocabulary? Vocabulary { get; init; }

    /// <summary>Fraction of the streams held out for validation, 0..0.5.</summary>
    public double ValidationFraction { get; init; } = 0.05;

    /// <summary>Seed of the train/validation split and of the BPE sample.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Bytes per token in the shards: 2 or 4.</summary>
    public int TokenWidth { get; init; } = 2;

    /// <summary>Threads encoding in parallel (the output order never depends on it).</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// When positive, the last this many files are the data set's own test split and become the validation
    /// shard in their order (<see cref="ValidationFraction"/> is then ignored): a model is never checked on, and
    /// prompts and references never come from, images it trained on.
    /// </summary>
    public int TestCount { get; init; }

    /// <summary>A class label per file (in file order); written as <c>train.labels</c> / <c>val.labels</c>, one byte per document.</summary>
    public IReadOnlyList<byte>? Labels { get; init; }
}

/// <summary>What <see cref="DatasetPreparer.Prepare"/> wrote.</summary>
/// <param name="Vocabulary">The vocabulary (learned or reused).</param>
/// <param name="TrainShard">Header of train.tok.</param>
/// <param name="ValidationShard">Header of val.tok.</param>
/// <param name="TokenBytes">Token-stream bytes over all documents.</param>
/// <param name="BpeSeconds">Time spent learning BPE (0 when reused).</param>
/// <param name="EncodeSeconds">Time spent encoding and writing shards.</param>
public sealed record DatasetPreparationResult(BpeVocabulary Vocabulary, TokenShardHeader TrainShard, TokenShardHeader ValidationShard, long TokenBytes, double BpeSeconds, double EncodeSeconds);

/// <summary>
/// Turns a list of canonical codec files (what the encoder writes, one per image) into a training
/// directory: <c>profile.json</c>, <c>vocab.json</c>, <c>train.tok</c> and <c>val.tok</c>. The split and
/// the BPE sample are deterministic for a seed; encoding is parallel but the shards list documents in
/// input order. <c>jpeglm prepare</c> walks and encodes images, then hands the files here.
/// </summary>
public static class DatasetPreparer
{
    /// <summary>Prepares <paramref name="outputDirectory"/> from <paramref name="files"/>.</summary>
    /// <param name="files">Complete codec files under <paramref name="profile"/> (e.g. image-only JPEGs).</param>
    /// <param name="profile">The data set's profile; decides what is stripped from each file.</param>
    /// <param name="outputDirectory">Created if needed; existing outputs are replaced.</param>
    /// <param name="options">Sizes, split and seed.</param>
    /// <exception cref="FormatException">A file does not fit the profile (the message names its index).</exception>
    public static DatasetPreparationResult Prepare(IReadOnlyList<byte[]> files, CodecProfile profile, string outputDirectory, DatasetPreparationOptions options)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ValidationFraction, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.ValidationFraction, 0.5);
        if (files.Count == 0)
        {
            throw new ArgumentException("no files to prepare", nameof(files));
        }

        Directory.CreateDirectory(outputDirectory);
        var streams = new byte[files.Count][];
        for (int i = 0; i < files.Count; i++)
        {
            try
            {
                streams[i] = profile.ToTokenBytes(files[i]);
            }
            catch (FormatException e)
            {
                throw new FormatException($"file {i}: {e.Message}", e);
            }
        }

        // Deterministic split: a seeded shuffle; the first part is validation, each part keeps input order.
        int[] order = [.. Enumerable.Range(0, files.Count)];
        new Random(options.Seed).Shuffle(order);
        int valCount = options.ValidationFraction > 0 && files.Count > 1 ? Math.Max(1, (int)Math.Round(files.Count * options.ValidationFraction)) : 0;
        int[] val = [.. order.Take(valCount).Order()];
        int[] train = [.. order.Skip(valCount).Order()];
        if (options.TestCount > 0)
        {
            if (options.TestCount >= files.Count)
            {
                throw new ArgumentException($"a test split of {options.TestCount} leaves no training files out of {files.Count}", nameof(options));
            }

            // The data set's own split: BPE learns from a seeded sample of the training files only.
            int trainCount = files.Count - options.TestCount;
            train = [.. Enumerable.Range(0, trainCount)];
            val = [.. Enumerable.Range(trainCount, options.TestCount)];
            order = [.. train];
            new Random(options.Seed).Shuffle(order);
            valCount = 0;
        }

        if (options.Labels != null && options.Labels.Count != files.Count)
        {
            throw new ArgumentException($"{options.Labels.Count} labels for {files.Count} files", nameof(options));
        }

        var sw = Stopwatch.StartNew();
        BpeVocabulary vocabulary = options.Vocabulary
            ?? BpeTrainer.Train([.. order.Skip(valCount).Take(options.BpeSampleCount).Select(i => streams[i])], options.VocabularySize).Vocabulary;
        double bpeSeconds = options.Vocabulary == null ? sw.Elapsed.TotalSeconds : 0;

        profile.Save(Path.Combine(outputDirectory, "profile.json"));
        vocabulary.Save(Path.Combine(outputDirectory, "vocab.json"));
        sw.Restart();
        TokenShardHeader trainHeader = WriteShard(Path.Combine(outputDirectory, "train.tok"), train, streams, vocabulary, profile, options);
        TokenShardHeader valHeader = WriteShard(Path.Combine(outputDirectory, "val.tok"), val, streams, vocabulary, profile, options);
        foreach ((string name, int[] split) in new[] { (DatasetLabels.TrainFile, train), (DatasetLabels.ValidationFile, val) })
        {
            string path = Path.Combine(outputDirectory, name);
            if (options.Labels is { } labels)
            {
                IO.AtomicFile.WriteAllBytes(path, split.Select(i => labels[i]).ToArray());
            }
            else
            {
                File.Delete(path); // stale labels from an earlier preparation must not describe new shards
            }
        }

        return new DatasetPreparationResult(vocabulary, trainHeader, valHeader, streams.Sum(s => (long)s.Length), bpeSeconds, sw.Elapsed.TotalSeconds);
    }

    private static TokenShardHeader WriteShard(string path, int[] indices, byte[][] streams, BpeVocabulary vocabulary, CodecProfile profile, DatasetPreparationOptions options)
    {
        using var writer = new TokenShardWriter(path, vocabulary, profile, options.TokenWidth);
        using var encoders = new ThreadLocal<BpeEncoder>(() => new BpeEncoder(vocabulary));
        const int Batch = 256;
        var encoded = new int[Batch][];
        for (int b = 0; b < indices.Length; b += Batch)
        {
            int n = Math.Min(Batch, indices.Length - b);
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism },
                j => encoded[j] = encoders.Value!.Encode(streams[indices[b + j]]));
            for (int j = 0; j < n; j++)
            {
                writer.WriteDocument(encoded[j]);
            }
        }

        return writer.Commit();
    }
}
