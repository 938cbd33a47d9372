using System.Globalization;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Quality;

namespace JpegLm.Cli.Pipeline;

/// <summary>The quality figures of one set of images (see <see cref="QualityReference.Measure"/>).</summary>
/// <param name="Name">What the set is (a model's samples, a calibration set).</param>
/// <param name="Count">Images in the set (n; Fréchet distances depend on it).</param>
/// <param name="Frechet">FD-classifier: Fréchet distance to the held-out images in the classifier's feature space.</param>
/// <param name="Kernel">KD-classifier: unbiased kernel distance (KID-style, cubic kernel) to the held-out images, ×1000 (features scaled to unit RMS over the held-out set, as for FD).</param>
/// <param name="MeanConfidence">Mean of the classifier's top class probability.</param>
/// <param name="ClassEntropy">Entropy of the mean class distribution in bits (diversity; log2(10) = 3.32 is uniform over classes).</param>
/// <param name="ClassMatch">Fraction classified as their expected class (completions: the prompt's class), when labels are given.</param>
/// <param name="NearestRatio">Median pixel distance to the nearest training image over the held-out images' median (below 1: closer to the training set than fresh images are).</param>
/// <param name="NearCopies">Fraction nearer to a training image than 99% of held-out images are (memorised copies).</param>
internal sealed record QualityFigures(string Name, int Count, double Frechet, double Kernel, double MeanConfidence, double ClassEntropy, double? ClassMatch,
    double NearestRatio, double NearCopies);

/// <summary>
/// The yardstick of the sample-quality measure for a labelled data set (Fashion-MNIST prepared by <c>jpeglm prepare</c>):
/// its training and held-out (test) images decoded from the shards — i.e. after the profile's own JPEG round trip —
/// with their labels, and a classifier trained on the training images by the project itself (cached in the data folder
/// as <c>classifier.safetensors</c>). Its feature layer stands in for Inception's in FID; its softmax gives class
/// figures; raw pixels give the nearest-neighbour memorisation check.
/// </summary>
internal sealed class QualityReference
{
    /// <summary>File name of the cached classifier in the data folder.</summary>
    public const string ClassifierFile = "classifier.safetensors";

    private const int KernelReferenceCount = 2000;
    private const int NearestReferenceCount = 1000;
    private readonly float[] _testFeatures;
    private readonly float[] _kernelFeatures;
    private readonly float[] _trainPixels01;
    private readonly float _testNearestMedian;
    private readonly float _testNearestP01;
    private readonly float _featureScale = 1f;

    private QualityReference(string data, CodecProfile profile, LabelledImages train, LabelledImages test, ImageClassifier classifier)
    {
        Data = data;
        Profile = profile;
        Train = train;
        Test = test;
        Classifier = classifier;
        TestAccuracy = classifier.Accuracy(test.Pixels, test.Labels);
        // Features are scaled once so the held-out set's have unit root-mean-square: the cubic kernel of KD then works on
        // numbers of order one, and FD is in those units too (both stay comparable across runs measured with this reference).
        (float[] raw, _) = RawFeatures(test.Pixels, test.Count);
        double squares = 0;
        foreach (float f in raw)
        {
            squares += f * f;
        }

        _featureScale = (float)(1 / Math.Sqrt(Math.Max(1e-12, squares / raw.Length)));
        (_testFeatures, _) = Features(test.Pixels, test.Count);
        _kernelFeatures = _testFeatures[..(Math.Min(KernelReferenceCount, test.Count) * classifier.FeatureSize)];
        _trainPixels01 = ToUnit(train.Pixels);
        float[] nearest = FeatureDistances.NearestDistances(ToUnit(test.Pixels.AsSpan(0, Math.Min(NearestReferenceCount, test.Count) * test.PixelsPerImage)),
            Math.Min(NearestReferenceCount, test.Count), _trainPixels01, train.Count, train.PixelsPerImage);
        Array.Sort(nearest);
        _testNearestMedian = nearest[nearest.Length / 2];
        _testNearestP01 = nearest[nearest.Length / 100];
    }

    /// <summary>The data folder.</summary>
    public string Data { get; }

    /// <summary>The data set's profile.</summary>
    public CodecProfile Profile { get; }

    /// <summary>The training images and labels (decoded from <c>train.tok</c>).</summary>
    public LabelledImages Train { get; }

    /// <summary>The held-out images and labels (decoded from <c>val.tok</c>; for Fashion-MNIST the t10k test set in order).</summary>
    public LabelledImages Test { get; }

    /// <summary>The classifier whose features and probabilities the figures use.</summary>
    public ImageClassifier Classifier { get; }

    /// <summary>The classifier's accuracy on the held-out images.</summary>
    public double TestAccuracy { get; }

    /// <summary>Loads a labelled data folder, training and caching the classifier on first use.</summary>
    public static QualityReference Load(string data, TextWriter log)
    {
        CodecProfile profile = CodecProfile.Load(Path.Combine(data, "profile.json"));
        BpeVocabulary vocabulary = BpeVocabulary.Load(Path.Combine(data, "vocab.json"));
        LabelledImages train = LabelledImages.Decode(data, profile, vocabulary, validation: false);
        LabelledImages test = LabelledImages.Decode(data, profile, vocabulary, validation: true);
        string path = Path.Combine(data, ClassifierFile);
        string stamp = string.Create(CultureInfo.InvariantCulture, $"{vocabulary.ContentHash():x16}-{profile.ContentHash():x16}-{train.Count}");
        ImageClassifier? classifier = null;
        if (File.Exists(path))
        {
            classifier = ImageClassifier.Load(path);
            if (!classifier.Metadata.TryGetValue("data", out string? trained) || trained != stamp || classifier.InputSize != train.PixelsPerImage)
            {
                log.WriteLine($"{path} was trained on other data; training a new one");
                classifier = null;
            }
        }

        if (classifier == null)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var options = new ClassifierOptions();
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"training the quality classifier (MLP {train.PixelsPerImage}-{string.Join('-', options.Hidden)}-{train.Classes}) on {train.Count} training images after the profile's round trip..."));
            var bar = new Reporting.ConsoleProgress(log, options.Epochs, "epochs");
            classifier = ImageClassifier.Train(train.Pixels, train.Labels, train.Width, train.Height, train.Classes, options,
                (epoch, loss) => bar.Report(epoch, string.Create(CultureInfo.InvariantCulture, $"loss {loss:F4}")));
            classifier.Metadata["data"] = stamp;
            classifier.Metadata["test_accuracy"] = classifier.Accuracy(test.Pixels, test.Labels).ToString("F4", CultureInfo.InvariantCulture);
            classifier.Metadata["train_seconds"] = clock.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture);
            classifier.Save(path);
        }

        return new QualityReference(data, profile, train, test, classifier);
    }

    /// <summary>
    /// The figures of <paramref name="count"/> images (<paramref name="pixels"/>: grey, the data set's size, end to end):
    /// distances to the held-out set's features, class figures, and the memorisation check.
    /// </summary>
    public QualityFigures Measure(string name, ReadOnlySpan<byte> pixels, int count, ReadOnlySpan<byte> expectedLabels = default)
    {
        (float[] features, float[] probs) = Features(pixels, count);
        int d = Classifier.FeatureSize, k = Classifier.Classes;
        double fd = FeatureDistances.Frechet(features, count, _testFeatures, Test.Count, d);
        double kd = 1000 * FeatureDistances.Kernel(features, count, _kernelFeatures, _kernelFeatures.Length / d, d);
        double confidence = 0;
        double[] mean = new double[k];
        int match = 0;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<float> p = probs.AsSpan(i * k, k);
            int best = ImageClassifier.ArgMax(p);
            confidence += p[best];
            for (int c = 0; c < k; c++)
            {
                mean[c] += p[c] / count;
            }

            if (!expectedLabels.IsEmpty && expectedLabels[i] == best)
            {
                match++;
            }
        }

        double entropy = -mean.Where(m => m > 0).Sum(m => m * Math.Log2(m));
        float[] nearest = FeatureDistances.NearestDistances(ToUnit(pixels), count, _trainPixels01, Train.Count, Train.PixelsPerImage);
        float[] sorted = [.. nearest.Order()];
        double ratio = sorted[sorted.Length / 2] / Math.Max(1e-9f, _testNearestMedian);
        double copies = nearest.Count(x => x < _testNearestP01) / (double)count;
        return new QualityFigures(name, count, fd, kd, confidence / count, entropy, expectedLabels.IsEmpty ? null : match / (double)count, ratio, copies);
    }

    private (float[] Features, float[] Probabilities) Features(ReadOnlySpan<byte> pixels, int count)
    {
        (float[] features, float[] probs) = RawFeatures(pixels, count);
        for (int i = 0; i < features.Length; i++)
        {
            features[i] *= _featureScale;
        }

        return (features, probs);
    }

    private (float[] Features, float[] Probabilities) RawFeatures(ReadOnlySpan<byte> pixels, int count)
    {
        float[] features = new float[count * Classifier.FeatureSize], probs = new float[count * Classifier.Classes];
        Classifier.Evaluate(pixels, count, features, probs);
        return (features, probs);
    }

    private static float[] ToUnit(ReadOnlySpan<byte> pixels)
    {
        float[] result = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            result[i] = pixels[i] / 255f;
        }

        return result;
    }
}

/// <summary>Grey images of one size laid end to end, with a class label each.</summary>
internal sealed class LabelledImages(int width, int height, byte[] pixels, byte[] labels)
{
    public int Width { get; } = width;

    public int Height { get; } = height;

    public int PixelsPerImage => Width * Height;

    public int Count => Labels.Length;

    /// <summary>Number of classes (largest label + 1, at least 2).</summary>
    public int Classes => Math.Max(2, Labels.Length == 0 ? 0 : Labels.Max() + 1);

    public byte[] Pixels { get; } = pixels;

    public byte[] Labels { get; } = labels;

    /// <summary>Image <paramref name="index"/>'s pixels.</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);

    /// <summary>Image <paramref name="index"/> as a picture.</summary>
    public PixelImage Picture(int index) => new(Width, Height, 1, Image(index).ToArray());

    /// <summary>Decodes every document of a prepared shard (JPEG: tolerant decode of the full file; pixels: as they are) to grey.</summary>
    public static LabelledImages Decode(string data, CodecProfile profile, BpeVocabulary vocabulary, bool validation)
    {
        using var shard = TokenShardReader.Open(Path.Combine(data, validation ? "val.tok" : "train.tok"), vocabulary.ContentHash(), profile.ContentHash());
        byte[] labels = DatasetLabels.Read(data, validation, shard.Header.DocumentCount);
        (int w, int h) = profile switch
        {
            JpegProfile j => (j.Width, j.Height),
            PixelProfile p => (p.Width, p.Height),
            _ => throw new NotSupportedException($"{profile.Name}: the quality measure needs an image profile"),
        };
        var docs = shard.Documents().ToArray();
        byte[] pixels = new byte[(long)docs.Length * w * h];
        Parallel.For(0, docs.Length, i =>
        {
            int[] tokens = new int[docs[i].Length];
            shard.CopyTokens(docs[i].Start, tokens);
            byte[] bytes = vocabulary.Decode([.. tokens.Where(t => !BpeVocabulary.IsSpecial(t))]);
            ImageOf(profile, bytes).Pixels.CopyTo(pixels.AsSpan(i * w * h, w * h));
        });
        return new LabelledImages(w, h, pixels, labels);
    }

    /// <summary>The grey picture of one document's token bytes under an image profile.</summary>
    public static PixelImage ImageOf(CodecProfile profile, ReadOnlySpan<byte> tokenBytes) => profile switch
    {
        JpegProfile j => JpegDecoder.DecodeDetailed(JpegTokenStreams.ToFullFile(j, tokenBytes), new JpegDecoderOptions { Tolerant = true }).Image.ToGray(),
        PixelProfile p => p.ToImage(tokenBytes),
        _ => throw new NotSupportedException($"{profile.Name}: not an image profile"),
    };
}
