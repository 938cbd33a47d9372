using System.Globalization;
using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;

namespace JpegLm.Engine.Quality;

/// <summary>How <see cref="ImageClassifier.Train"/> fits the network.</summary>
public sealed record ClassifierOptions
{
    /// <summary>Widths of the hidden layers; the last one is the feature layer the Fréchet distance reads.</summary>
    public IReadOnlyList<int> Hidden { get; init; } = [512, 128];

    /// <summary>Passes over the training images.</summary>
    public int Epochs { get; init; } = 12;

    /// <summary>Images per Adam step.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Adam learning rate (cosine-decayed to a tenth over the run).</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Seed of the initialisation and of the shuffles.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Each training image is also shown shifted by up to this many pixels (0 = none), which makes the features less sensitive to where a garment sits.</summary>
    public int MaxShift { get; init; } = 2;
}

/// <summary>
/// A small multi-layer perceptron over 8-bit grey images (ReLU hidden layers, softmax output), trained with
/// Adam on labelled images. It stands in for Inception in FID: its last hidden layer gives the features of
/// <see cref="FeatureDistances"/> and its softmax the class probabilities of the sample-quality report.
/// Deterministic for a seed (single-threaded managed GEMM), so the cached network and every figure it
/// yields are reproducible. Written here, trained by the project: no downloaded weights.
/// </summary>
public sealed unsafe class ImageClassifier
{
    private const string Format = "jpeglm-mlp-classifier-1";
    private readonly int[] _sizes; // input, hidden..., classes
    private readonly float[][] _w; // layer l: [sizes[l+1], sizes[l]] row-major
    private readonly float[][] _b;
    private static readonly ManagedGemm Gemm = new();

    private ImageClassifier(int[] sizes)
    {
        _sizes = sizes;
        _w = new float[sizes.Length - 1][];
        _b = new float[sizes.Length - 1][];
        for (int l = 0; l + 1 < sizes.Length; l++)
        {
            _w[l] = new float[sizes[l + 1] * sizes[l]];
            _b[l] = new float[sizes[l + 1]];
        }
    }

    /// <summary>Pixels per input image.</summary>
    public int InputSize => _sizes[0];

    /// <summary>Number of classes.</summary>
    public int Classes => _sizes[^1];

    /// <summary>Width of the feature layer (the last hidden layer).</summary>
    public int FeatureSize => _sizes[^2];

    /// <summary>Free-form facts saved with the network (e.g. its test accuracy, what it was trained on).</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Trains a classifier on the images of <paramref name="width"/> × <paramref name="height"/>
    /// grey pixels laid end to end in <paramref name="pixels"/>, with labels in <c>[0, classes)</c>.
    /// </summary>
    public static ImageClassifier Train(byte[] pixels, byte[] labels, int width, int height, int classes, ClassifierOptions options, Action<int, double>? epochDone = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(options);
        int d = width * height, n = labels.Length;
        if (n == 0 || pixels.Length != (long)n * d || classes < 2 || labels.Any(l => l >= classes) || options.Hidden.Count == 0)
        {
            throw new ArgumentException($"expected {n} images of {d} pixels with labels below {classes}");
        }

        int[] sizes = [d, .. options.Hidden, classes];
        var net = new ImageClassifier(sizes);
        var rng = new SplitMixRandom(options.Seed);
        for (int l = 0; l + 1 < sizes.Length; l++)
        {
            float std = MathF.Sqrt(2f / sizes[l]); // He initialisation for ReLU layers
            for (int i = 0; i < net._w[l].Length; i++)
            {
                net._w[l][i] = std * rng.NextGaussian();
            }
        }

        int bs = options.BatchSize, layers = sizes.Length - 1;
        var acts = new float[layers + 1][];
        var grads = new float[layers + 1][];
        for (int l = 0; l <= layers; l++)
        {
            acts[l] = new float[bs * sizes[l]];
            grads[l] = new float[bs * sizes[l]];
        }

        var dw = net._w.Select(w => new float[w.Length]).ToArray();
        var db = net._b.Select(b => new float[b.Length]).ToArray();
        var mw = net._w.Select(w => new float[w.Length]).ToArray();
        var vw = net._w.Select(w => new float[w.Length]).ToArray();
        var mb = net._b.Select(b => new float[b.Length]).ToArray();
        var vb = net._b.Select(b => new float[b.Length]).ToArray();
        int[] order = [.. Enumerable.Range(0, n)];
        int stepsPerEpoch = n / bs, totalSteps = stepsPerEpoch * options.Epochs, step = 0;
        int[] batchLabels = new int[bs];
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            Shuffle(order, rng);
            double lossSum = 0;
            for (int s = 0; s < stepsPerEpoch; s++)
            {
                for (int i = 0; i < bs; i++)
                {
                    int index = order[(s * bs) + i];
                    int dx = options.MaxShift > 0 ? (int)rng.NextInt64((2 * options.MaxShift) + 1) - options.MaxShift : 0;
                    int dy = options.MaxShift > 0 ? (int)rng.NextInt64((2 * options.MaxShift) + 1) - options.MaxShift : 0;
                    LoadShifted(pixels.AsSpan(index * d, d), width, height, dx, dy, acts[0].AsSpan(i * d, d));
                    batchLabels[i] = labels[index];
                }

                net.ForwardBatch(acts, bs);
                lossSum += SoftmaxCrossEntropy(acts[layers], grads[layers], batchLabels, bs, classes);
                net.BackwardBatch(acts, grads, dw, db, bs);
                step++;
                float lr = options.LearningRate * (0.1f + (0.9f * 0.5f * (1 + MathF.Cos(MathF.PI * step / totalSteps))));
                for (int l = 0; l < layers; l++)
                {
                    Adam(net._w[l], dw[l], mw[l], vw[l], lr, step);
                    Adam(net._b[l], db[l], mb[l], vb[l], lr, step);
                }
            }

            epochDone?.Invoke(epoch + 1, lossSum / Math.Max(1, stepsPerEpoch));
        }

        return net;
    }

    /// <summary>
    /// Runs <paramref name="count"/> images through the network: the feature layer into <paramref name="features"/>
    /// (<c>count × FeatureSize</c>) and the class probabilities into <paramref name="probabilities"/> (<c>count × Classes</c>).
    /// </summary>
    public void Evaluate(ReadOnlySpan<byte> pixels, int count, Span<float> features, Span<float> probabilities)
    {
        int d = InputSize, layers = _sizes.Length - 1;
        if (pixels.Length != (long)count * d || features.Length != (long)count * FeatureSize || probabilities.Length != (long)count * Classes)
        {
            throw new ArgumentException($"expected {count} images of {d} pixels and matching outputs");
        }

        const int Chunk = 256;
        var acts = new float[layers + 1][];
        for (int l = 0; l <= layers; l++)
        {
            acts[l] = new float[Chunk * _sizes[l]];
        }

        for (int start = 0; start < count; start += Chunk)
        {
            int m = Math.Min(Chunk, count - start);
            for (int i = 0; i < m * d; i++)
            {
                acts[0][i] = Scale(pixels[(start * d) + i]);
            }

            ForwardBatch(acts, m);
            acts[layers - 1].AsSpan(0, m * FeatureSize).CopyTo(features.Slice(start * FeatureSize, m * FeatureSize));
            for (int i = 0; i < m; i++)
            {
                Softmax(acts[layers].AsSpan(i * Classes, Classes), probabilities.Slice((start + i) * Classes, Classes));
            }
        }
    }

    /// <summary>The most likely class of each of <paramref name="count"/> images.</summary>
    public int[] Predict(ReadOnlySpan<byte> pixels, int count)
    {
        float[] features = new float[count * FeatureSize], probs = new float[count * Classes];
        Evaluate(pixels, count, features, probs);
        int[] result = new int[count];
        for (int i = 0; i < count; i++)
        {
            result[i] = ArgMax(probs.AsSpan(i * Classes, Classes));
        }

        return result;
    }

    /// <summary>Fraction of images whose most likely class is their label.</summary>
    public double Accuracy(ReadOnlySpan<byte> pixels, ReadOnlySpan<byte> labels)
    {
        int[] predicted = Predict(pixels, labels.Length);
        int right = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            right += predicted[i] == labels[i] ? 1 : 0;
        }

        return labels.Length == 0 ? 0 : (double)right / labels.Length;
    }

    /// <summary>Index of the largest value.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Writes the network (and <see cref="Metadata"/>) as a safetensors file, atomically.</summary>
    public void Save(string path)
    {
        var meta = new Dictionary<string, string>(Metadata, StringComparer.Ordinal)
        {
            ["format"] = Format,
            ["sizes"] = string.Join(',', _sizes.Select(s => s.ToString(CultureInfo.InvariantCulture))),
        };
        var tensors = new List<(string, long[], ReadOnlyMemory<float>)>();
        for (int l = 0; l < _w.Length; l++)
        {
            tensors.Add(($"layers.{l}.weight", [_sizes[l + 1], _sizes[l]], _w[l]));
            tensors.Add(($"layers.{l}.bias", [_sizes[l + 1]], _b[l]));
        }

        SafetensorsFile.Write(path, tensors, meta);
    }

    /// <summary>Reads a network written by <see cref="Save"/>.</summary>
    /// <exception cref="SafetensorsFormatException">Not such a file, or damaged.</exception>
    public static ImageClassifier Load(string path)
    {
        using SafetensorsFile file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("format", out string? format) || format != Format || !file.Metadata.TryGetValue("sizes", out string? sizeText))
        {
            throw new SafetensorsFormatException($"{path}: not a JpegLm classifier");
        }

        int[] sizes;
        try
        {
            sizes = [.. sizeText.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
        }
        catch (FormatException)
        {
            throw new SafetensorsFormatException($"{path}: bad layer sizes '{sizeText}'");
        }

        if (sizes.Length < 3 || sizes.Any(s => s is <= 0 or > 1 << 16))
        {
            throw new SafetensorsFormatException($"{path}: bad layer sizes '{sizeText}'");
        }

        var net = new ImageClassifier(sizes);
        for (int l = 0; l < net._w.Length; l++)
        {
            file.Read($"layers.{l}.weight", net._w[l]);
            file.Read($"layers.{l}.bias", net._b[l]);
        }

        foreach ((string key, string value) in file.Metadata)
        {
            if (key is not ("format" or "sizes"))
            {
                net.Metadata[key] = value;
            }
        }

        return net;
    }

    private static float Scale(byte p) => (p / 127.5f) - 1f;

    private static void LoadShifted(ReadOnlySpan<byte> image, int width, int height, int dx, int dy, Span<float> destination)
    {
        for (int y = 0; y < height; y++)
        {
            int sy = y - dy;
            for (int x = 0; x < width; x++)
            {
                int sx = x - dx;
                destination[(y * width) + x] = (uint)sy < (uint)height && (uint)sx < (uint)width ? Scale(image[(sy * width) + sx]) : -1f;
            }
        }
    }

    private static void Shuffle(int[] order, SplitMixRandom rng)
    {
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)rng.NextInt64(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    private void ForwardBatch(float[][] acts, int m)
    {
        int layers = _sizes.Length - 1;
        for (int l = 0; l < layers; l++)
        {
            int inW = _sizes[l], outW = _sizes[l + 1];
            fixed (float* x = acts[l], w = _w[l], y = acts[l + 1])
            {
                Gemm.SgemmOnThisThread(false, true, m, outW, inW, 1f, x, inW, w, inW, 0f, y, outW);
            }

            float[] bias = _b[l], output = acts[l + 1];
            bool relu = l + 1 < layers;
            for (int i = 0; i < m; i++)
            {
                Span<float> row = output.AsSpan(i * outW, outW);
                for (int j = 0; j < outW; j++)
                {
                    float v = row[j] + bias[j];
                    row[j] = relu && v < 0 ? 0 : v;
                }
            }
        }
    }

    private void BackwardBatch(float[][] acts, float[][] grads, float[][] dw, float[][] db, int m)
    {
        for (int l = _sizes.Length - 2; l >= 0; l--)
        {
            int inW = _sizes[l], outW = _sizes[l + 1];
            float[] dy = grads[l + 1];
            fixed (float* g = dy, x = acts[l], gw = dw[l], w = _w[l], dx = grads[l])
            {
                Gemm.SgemmOnThisThread(true, false, outW, inW, m, 1f, g, outW, x, inW, 0f, gw, inW);
                if (l > 0)
                {
                    Gemm.SgemmOnThisThread(false, false, m, inW, outW, 1f, g, outW, w, inW, 0f, dx, inW);
                }
            }

            Array.Clear(db[l]);
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < outW; j++)
                {
                    db[l][j] += dy[(i * outW) + j];
                }
            }

            if (l > 0)
            {
                // ReLU: no gradient where the unit was off.
                float[] a = acts[l], d = grads[l];
                for (int i = 0; i < m * inW; i++)
                {
                    if (a[i] <= 0)
                    {
                        d[i] = 0;
                    }
                }
            }
        }
    }

    private static double SoftmaxCrossEntropy(float[] logits, float[] grad, int[] labels, int m, int classes)
    {
        double loss = 0;
        Span<float> p = stackalloc float[classes];
        for (int i = 0; i < m; i++)
        {
            Softmax(logits.AsSpan(i * classes, classes), p);
            loss -= Math.Log(Math.Max(p[labels[i]], 1e-30f));
            for (int c = 0; c < classes; c++)
            {
                grad[(i * classes) + c] = (p[c] - (c == labels[i] ? 1f : 0f)) / m;
            }
        }

        return loss / m;
    }

    private static void Softmax(ReadOnlySpan<float> logits, Span<float> p)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits)
        {
            max = MathF.Max(max, v);
        }

        float sum = 0;
        for (int c = 0; c < logits.Length; c++)
        {
            p[c] = MathF.Exp(logits[c] - max);
            sum += p[c];
        }

        for (int c = 0; c < logits.Length; c++)
        {
            p[c] /= sum;
        }
    }

    private static void Adam(float[] w, float[] g, float[] m, float[] v, float lr, int step)
    {
        const float B1 = 0.9f, B2 = 0.999f, Eps = 1e-8f;
        float c1 = 1f - MathF.Pow(B1, step), c2 = 1f - MathF.Pow(B2, step);
        for (int i = 0; i < w.Length; i++)
        {
            m[i] = (B1 * m[i]) + ((1 - B1) * g[i]);
            v[i] = (B2 * v[i]) + ((1 - B2) * g[i] * g[i]);
            w[i] -= lr * (m[i] / c1) / (MathF.Sqrt(v[i] / c2) + Eps);
        }
    }
}
