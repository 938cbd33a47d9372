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
public sealed record CorpusResult(IReadOnlyList<string> Sources, IReadOnlyList<byte[]> Files, IReadOnlyList<CorpusFailure> Failures);

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
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(profile);
        PixelImage fitted = image.Width == profile.Width && image.Height == profile.Height
            ? image
            : ImageResize.Resize(ImageResize.CenterCropToAspect(image, profile.Width, profile.Height), profile.Width, profile.Height);
        return profile.Subsampling == JpegProfile.Grey ? fitted.ToGray() : fitted.ToRgb();
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

    /// <summary>Encodes every image in <paramref name="directory"/> (or its Fashion-MNIST training split) under <paramref name="profile"/>.</summary>
    /// <param name="directory">Input folder.</param>
    /// <param name="profile">The data set's profile.</param>
    /// <param name="threads">Degree of parallelism (the result does not depend on it).</param>
    /// <param name="limit">Use at most this many inputs (0 = all).</param>
    /// <param name="progress">Called with (done, total) as images finish.</param>
    public static CorpusResult EncodeFolder(string directory, JpegProfile profile, int threads, int limit = 0, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        string? idx = FindFashionMnist(directory);
        if (idx != null)
        {
            string labels = idx.Replace("images-idx3", "labels-idx1", StringComparison.Ordinal);
            FashionMnist set = FashionMnist.Load(idx, labels);
            int n = limit > 0 ? Math.Min(limit, set.Count) : set.Count;
            return Encode(n, i => $"{Path.GetFileName(idx)}#{i}", i =>
            {
                PixelImage img = set.Image(i);
                return profile.Width == 32 && profile.Height == 32 ? FashionMnist.PadTo32(img) : img;
            }, profile, threads, progress);
        }

        IReadOnlyList<string> files = FindImages(directory);
        int count = limit > 0 ? Math.Min(limit, files.Count) : files.Count;
        return Encode(count, i => files[i], i => ImageFile.Load(files[i]), profile, threads, progress);
    }

    /// <summary>Encodes <paramref name="count"/> images produced by <paramref name="load"/> (exceptions become failures).</summary>
    public static CorpusResult Encode(int count, Func<int, string> name, Func<int, PixelImage> load, JpegProfile profile, int threads, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(load);
        JpegEncoderOptions options = EncoderOptions(profile);
        var files = new byte[count][];
        var errors = new string?[count];
        int done = 0;
        using var encoders = new ThreadLocal<JpegEncoder>(() => new JpegEncoder(options));
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i =>
        {
            try
            {
                files[i] = encoders.Value!.Encode(FitToProfile(load(i), profile));
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
