using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Tokens;

/// <summary>An input that could not be used, and why (never fatal for a data set).</summary>
/// <param name="Source">The file (or "IDX image N").</param>
/// <param name="Reason">The error message, with its byte offset where the decoder knows it.</param>
public sealed record CorpusFailure(string Source, string Reason);

/// <summary>The canonical files made from a folder of images, in a fixed order.</summary>
/// <param name="Sources">Where each file came from (path, or "name#index" for IDX data sets).</param>
/// <param name="Files">The canonical codec files (image-only JPEG streams under the profile).</param>
/// <param name="Failures">Inputs that were skipped.</param>
public sealed record CorpusResult(IReadOnlyList<string> Sources, IReadOnlyList<byte[]> Files, IReadOnlyList<CorpusFailure> Failures)
{
    /// <summary>The class label of each file, where the data set has labels (Fashion-MNIST); null otherwise.</summary>
    public IReadOnlyList<byte>? Labels { get; init; }

    /// <summary>
    /// How many files at the end of <see cref="Files"/> are the data set's own test split (Fashion-MNIST's
    /// <c>t10k</c> images), which then becomes the validation shard in order; 0 when the data set has none.
    /// </summary>
    public int TestCount { get; init; }
}

/// <summary>
/// The front of <c>jpeglm prepare</c> for images: finds inputs (jpg/png/ppm/pgm files, recursively, or a
/// Fashion-MNIST IDX folder), fits each to the profile (centre crop to the profile's aspect, area
/// downscale or bicubic upscale; Fashion-MNIST's 28x28 is padded to 32x32 instead), and encodes it as the
/// profile's canonical image-only JPEG. Parallel, with output in input order whatever the thread count.
/// </summary>
public static class ImageCorpus
{
    /// <summary>The encoder settings that produce a profile's canonical image-only stream.</summary>
    public static JpegEncoderOptions EncoderOptions(JpegProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return new JpegEncoderOptions
        {
            Quality = profile.Quality,
            RestartInterval = profile.RestartInterval,
            StreamKind = JpegStreamKind.ImageOnly,
            Subsampling = profile.Subsampling switch
            {
                JpegProfile.Yuv420 => JpegSubsampling.S420,
                JpegProfile.Yuv444 => JpegSubsampling.S444,
                JpegProfile.Grey => JpegSubsampling.Gray,
                _ => throw new ArgumentException($"profile subsampling '{profile.Subsampling}' has no encoder setting", nameof(profile)),
            },
        };
    }

    /// <summary>Crops, scales and converts an image so it has exactly the profile's size and channels.</summary>
    public static PixelImage FitToProfile(PixelImage image, JpegProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return Fit(image, profile.Width, profile.Height, profile.Subsampling == JpegProfile.Grey);
    }

    /// <summary>Crops and scales an image to the pixel profile's size, in grey.</summary>
    public static PixelImage FitToProfile(PixelImage image, PixelProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return Fit(image, profile.Width, profile.Height, grey: true);
    }

    /// <summary>The canonical file of an image under an image profile (JPEG or pixels); throws for video profiles.</summary>
    public static Func<PixelImage, byte[]> Encoder(CodecProfile profile) => profile switch
    {
        JpegProfile jpeg => CreateJpegEncoder(jpeg),
        PixelProfile pixels => image => pixels.Encode(FitToProfile(image, pixels)),
        _ => throw new ArgumentException($"profile '{profile?.Name}' is not an image profile", nameof(profile)),
    };

    private static Func<PixelImage, byte[]> CreateJpegEncoder(JpegProfile profile)
    {
        var encoder = new JpegEncoder(EncoderOptions(profile));
        return image => encoder.Encode(FitToProfile(image, profile));
    }

    private static PixelImage Fit(PixelImage image, int width, int height, bool grey)
    {
        ArgumentNullException.ThrowIfNull(image);
        PixelImage fitted = image.Width == width && image.Height == height
            ? image
            : ImageResize.Resize(ImageResize.CenterCropToAspect(image, width, height), width, height);
        return grey ? fitted.ToGray() : fitted.ToRgb();
    }

    /// <summary>Image files under <paramref name="directory"/> (recursive), sorted by ordinal path for a stable order.</summary>
    public static IReadOnlyList<string> FindImages(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"input folder '{directory}' does not exist");
        }

        return [.. Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(p => ImageFile.InputExtensions.Contains(Path.GetExtension(p)))
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>The Fashion-MNIST images file in <paramref name="directory"/>, if it holds the IDX data set.</summary>
    public static string? FindFashionMnist(string directory)
    {
        foreach (string name in new[] { "train-images-idx3-ubyte.gz", "train-images-idx3-ubyte" })
        {
            string path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    /// <summary>
    /// Encodes every image in <paramref name="directory"/> under <paramref name="profile"/> (JPEG or pixels). A
    /// Fashion-MNIST folder gives its 60,000 training images, then, when the <c>t10k</c> files are beside them, its
    /// 10,000 test images as <see cref="CorpusResult.TestCount"/>, with every image's label.
    /// </summary>
    /// <param name="directory">Input folder.</param>
    /// <param name="profile">The data set's image profile.</param>
    /// <param name="threads">Degree of parallelism (the result does not depend on it).</param>
    /// <param name="limit">Use at most this many inputs (0 = all; for Fashion-MNIST, of each split).</param>
    /// <param name="progress">Called with (done, total) as images finish.</param>
    public static CorpusResult EncodeFolder(string directory, CodecProfile profile, int threads, int limit = 0, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _ = Encoder(profile); // rejects video profiles before any work
        string? idx = FindFashionMnist(directory);
        if (idx != null)
        {
            return EncodeFashionMnist(idx, profile, threads, limit, progress);
        }

        IReadOnlyList<string> files = FindImages(directory);
        int count = limit > 0 ? Math.Min(limit, files.Count) : files.Count;
        return Encode(count, i => files[i], i => ImageFile.Load(files[i]), profile, threads, progress);
    }

    private static CorpusResult EncodeFashionMnist(string trainImages, CodecProfile profile, int threads, int limit, Action<int, int>? progress)
    {
        static string LabelsOf(string images) => images.Replace("images-idx3", "labels-idx1", StringComparison.Ordinal);
        string testImages = trainImages.Replace("train-images", "t10k-images", StringComparison.Ordinal);
        var splits = new List<(string Name, FashionMnist Set)> { (Path.GetFileName(trainImages), FashionMnist.Load(trainImages, LabelsOf(trainImages))) };
        if (File.Exists(testImages))
        {
            splits.Add((Path.GetFileName(testImages), FashionMnist.Load(testImages, LabelsOf(testImages))));
        }

        var counts = splits.Select(s => limit > 0 ? Math.Min(limit, s.Set.Count) : s.Set.Count).ToArray();
        int total = counts.Sum(), offset = counts[0];
        (string Name, FashionMnist Set, int Index) Locate(int i) => i < offset ? (splits[0].Name, splits[0].Set, i) : (splits[1].Name, splits[1].Set, i - offset);
        CorpusResult result = Encode(total, i => { var (name, _, index) = Locate(i); return $"{name}#{index}"; }, i =>
        {
            var (_, set, index) = Locate(i);
            PixelImage img = set.Image(index);
            return (profile is JpegProfile { Width: 32, Height: 32 } or PixelProfile { Width: 32, Height: 32 }) ? FashionMnist.PadTo32(img) : img;
        }, profile, threads, progress);
        if (result.Failures.Count > 0)
        {
            return result; // labels would no longer line up with files; the caller reports the failures
        }

        return result with
        {
            Labels = [.. Enumerable.Range(0, total).Select(i => { var (_, set, index) = Locate(i); return (byte)set.Label(index); })],
            TestCount = splits.Count > 1 ? counts[1] : 0,
        };
    }

    /// <summary>Encodes <paramref name="count"/> images produced by <paramref name="load"/> (exceptions become failures).</summary>
    public static CorpusResult Encode(int count, Func<int, string> name, Func<int, PixelImage> load, CodecProfile profile, int threads, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(load);
        ArgumentNullException.ThrowIfNull(profile);
        var files = new byte[count][];
        var errors = new string?[count];
        int done = 0;
        using var encoders = new ThreadLocal<Func<PixelImage, byte[]>>(() => Encoder(profile));
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i =>
        {
            try
            {
                files[i] = encoders.Value!(load(i));
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
            {
                errors[i] = e.Message;
            }

            progress?.Invoke(Interlocked.Increment(ref done), count);
        });

        var sources = new List<string>(count);
        var good = new List<byte[]>(count);
        var failures = new List<CorpusFailure>();
        for (int i = 0; i < count; i++)
        {
            if (errors[i] is { } reason)
            {
                failures.Add(new CorpusFailure(name(i), reason));
            }
            else
            {
                sources.Add(name(i));
                good.Add(files[i]);
            }
        }

        return new CorpusResult(sources, good, failures);
    }
}
