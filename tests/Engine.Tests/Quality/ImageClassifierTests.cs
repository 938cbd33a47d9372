using JpegLm.Engine.Quality;

namespace JpegLm.Engine.Tests.Quality;

public class ImageClassifierTests
{
    /// <summary>Three hand-made classes of 8x8 images: a bright top half, a bright left half, a bright centre, with noise.</summary>
    private static (byte[] Pixels, byte[] Labels) Shapes(int perClass, int seed)
    {
        var rng = new Random(seed);
        var pixels = new List<byte>();
        var labels = new List<byte>();
        for (int i = 0; i < perClass * 3; i++)
        {
            int c = i % 3;
            for (int y = 0; y < 8; y++)
            {
                for (int x = 0; x < 8; x++)
                {
                    bool on = c switch { 0 => y < 4, 1 => x < 4, _ => x is >= 2 and < 6 && y is >= 2 and < 6 };
                    pixels.Add((byte)Math.Clamp((on ? 200 : 40) + rng.Next(-60, 61), 0, 255));
                }
            }

            labels.Add((byte)c);
        }

        return ([.. pixels], [.. labels]);
    }

    [Fact]
    public void Learns_separable_classes_and_round_trips_through_a_file()
    {
        (byte[] train, byte[] trainLabels) = Shapes(200, 1);
        (byte[] test, byte[] testLabels) = Shapes(50, 2);
        var options = new ClassifierOptions { Hidden = [32, 16], Epochs = 15, BatchSize = 32, MaxShift = 0, LearningRate = 3e-3f };
        ImageClassifier net = ImageClassifier.Train(train, trainLabels, 8, 8, 3, options);
        Assert.True(net.Accuracy(test, testLabels) > 0.95, $"accuracy {net.Accuracy(test, testLabels)}");

        // A network that saw labels shuffled against the images cannot beat chance by much: the test can fail.
        byte[] shuffled = [.. trainLabels.OrderBy(_ => Guid.NewGuid())];
        ImageClassifier blind = ImageClassifier.Train(train, shuffled, 8, 8, 3, options);
        Assert.True(blind.Accuracy(test, testLabels) < 0.7, $"accuracy {blind.Accuracy(test, testLabels)}");

        string path = Path.Combine(Path.GetTempPath(), $"clf-{Guid.NewGuid():N}.safetensors");
        try
        {
            net.Metadata["note"] = "test";
            net.Save(path);
            ImageClassifier loaded = ImageClassifier.Load(path);
            Assert.Equal("test", loaded.Metadata["note"]);
            Assert.Equal(net.Predict(test, testLabels.Length), loaded.Predict(test, testLabels.Length));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed()
    {
        (byte[] train, byte[] labels) = Shapes(40, 3);
        var options = new ClassifierOptions { Hidden = [16, 8], Epochs = 2, BatchSize = 16 };
        float[] Probe(ImageClassifier c)
        {
            float[] f = new float[3 * 8], p = new float[3 * 3];
            c.Evaluate(train.AsSpan(0, 3 * 64), 3, f, p);
            return p;
        }

        Assert.Equal(Probe(ImageClassifier.Train(train, labels, 8, 8, 3, options)), Probe(ImageClassifier.Train(train, labels, 8, 8, 3, options)));
    }

    [Fact]
    public void A_file_that_is_not_a_classifier_is_a_format_error()
    {
        string path = Path.Combine(Path.GetTempPath(), $"clf-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
            Assert.Throws<JpegLm.Engine.Model.SafetensorsFormatException>(() => ImageClassifier.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
