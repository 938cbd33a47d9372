using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Tokens;

/// <summary>
/// Fashion-MNIST: 28x28 grey images (0 = background) with labels 0..9, read from the IDX files
/// (Debian's dataset-fashion-mnist ships them gzipped under /usr/share/datasets/fashion-mnist).
/// For JPEG the images are padded to 32x32 (<see cref="PadTo32"/>) and coded under
/// <see cref="JpegProfile.FashionMnist"/>.
/// </summary>
public sealed class FashionMnist
{
    /// <summary>Where Debian installs the files.</summary>
    public const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    private readonly IdxArray _images;
    private readonly byte[] _labels;

    private FashionMnist(IdxArray images, byte[] labels)
    {
        _images = images;
        _labels = labels;
    }

    /// <summary>The class names, by label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Number of images.</summary>
    public int Count => _labels.Length;

    /// <summary>Image side length (28).</summary>
    public int Side => _images.Dimensions[1];

    /// <summary>Reads an images file and its labels file (plain or gzipped IDX).</summary>
    /// <exception cref="InvalidDataException">Malformed files, or counts/shapes that do not match.</exception>
    public static FashionMnist Load(string imagesPath, string labelsPath)
    {
        IdxArray images = IdxReader.Read(imagesPath);
        IdxArray labels = IdxReader.Read(labelsPath);
        if (images.Dimensions.Length != 3 || images.Dimensions[1] != images.Dimensions[2] || images.Dimensions[1] == 0)
        {
            throw new InvalidDataException($"{imagesPath}: expected N x S x S images");
        }

        if (labels.Dimensions.Length != 1 || labels.Dimensions[0] != images.Dimensions[0])
        {
            throw new InvalidDataException($"{labelsPath}: {labels.Dimensions[0]} labels for {images.Dimensions[0]} images");
        }

        if (labels.Data.Any(l => l >= ClassNames.Count))
        {
            throw new InvalidDataException($"{labelsPath}: label out of 0..9");
        }

        return new FashionMnist(images, labels.Data);
    }

    /// <summary>Loads the Debian training or test split.</summary>
    public static FashionMnist LoadDebian(bool train = true)
    {
        string prefix = train ? "train" : "t10k";
        return Load(Path.Combine(DebianDirectory, prefix + "-images-idx3-ubyte.gz"), Path.Combine(DebianDirectory, prefix + "-labels-idx1-ubyte.gz"));
    }

    /// <summary>The label (0..9) of image <paramref name="index"/>.</summary>
    public int Label(int index) => _labels[index];

    /// <summary>Image <paramref name="index"/> as a grey <see cref="PixelImage"/> (a copy).</summary>
    public PixelImage Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        int size = Side * Side;
        return new PixelImage(Side, Side, 1, _images.Data.AsSpan(index * size, size).ToArray());
    }

    /// <summary>Centres a grey image on a 32x32 black (0) canvas, as the Fashion-MNIST profile expects.</summary>
    public static PixelImage PadTo32(PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Channels != 1 || image.Width > 32 || image.Height > 32)
        {
            throw new ArgumentException("expected a grey image of at most 32x32", nameof(image));
        }

        var padded = new PixelImage(32, 32, 1);
        int x0 = (32 - image.Width) / 2, y0 = (32 - image.Height) / 2;
        for (int y = 0; y < image.Height; y++)
        {
            image.Row(y).CopyTo(padded.Row(y0 + y)[x0..]);
        }

        return padded;
    }
}
