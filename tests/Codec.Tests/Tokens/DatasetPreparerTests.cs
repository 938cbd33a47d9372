using JpegLm.Codec.Imaging;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Tokens;

public class DatasetPreparerTests
{
    private static List<byte[]> PaperFiles()
        => [.. Directory.GetFiles(TestPaths.Data("tokens"), "paper-?.jpg").Order().Select(File.ReadAllBytes)];

    [Fact]
    public void Prepared_shards_decode_back_to_the_input_files_and_are_deterministic()
    {
        List<byte[]> files = PaperFiles();
        files.AddRange(files.ToList()); // 8 documents
        var options = new DatasetPreparationOptions { VocabularySize = 300, ValidationFraction = 0.25, Seed = 3, MaxDegreeOfParallelism = 2 };
        string a = TestPaths.NewTempDirectory(), b = TestPaths.NewTempDirectory();
        DatasetPreparationResult ra = DatasetPreparer.Prepare(files, JpegProfile.Paper(), a, options);
        DatasetPreparationResult rb = DatasetPreparer.Prepare(files, JpegProfile.Paper(), b, options with { MaxDegreeOfParallelism = 1 });
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "train.tok")), File.ReadAllBytes(Path.Combine(b, "train.tok")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "val.tok")), File.ReadAllBytes(Path.Combine(b, "val.tok")));
        Assert.Equal(6, ra.TrainShard.DocumentCount);
        Assert.Equal(2, ra.ValidationShard.DocumentCount);

        var profile = (JpegProfile)CodecProfile.Load(Path.Combine(a, "profile.json"));
        BpeVocabulary vocab = BpeVocabulary.Load(Path.Combine(a, "vocab.json"));
        var decoded = new List<byte[]>();
        foreach (string shard in new[] { "train.tok", "val.tok" })
        {
            using TokenShardReader r = TokenShardReader.Open(Path.Combine(a, shard), vocab.ContentHash(), profile.ContentHash());
            foreach ((long start, long length) in r.Documents())
            {
                var tokens = new int[length];
                r.CopyTokens(start, tokens);
                Assert.Equal(BpeVocabulary.Bos, tokens[0]);
                decoded.Add(profile.FromTokenBytes(vocab.Decode(tokens)));
            }
        }

        Assert.Equal(files.Select(Convert.ToBase64String).Order(), decoded.Select(Convert.ToBase64String).Order());
    }

    [Fact]
    public void A_file_made_under_another_profile_is_named_by_index()
    {
        List<byte[]> files = PaperFiles();
        files.Add([0xFF, 0xD8, 0xFF, 0xD9]);
        FormatException e = Assert.ThrowsAny<FormatException>(() =>
            DatasetPreparer.Prepare(files, JpegProfile.Paper(), TestPaths.NewTempDirectory(), new DatasetPreparationOptions()));
        Assert.Contains("file 4", e.Message, StringComparison.Ordinal);
    }
}

public class FashionMnistTests
{
    [Fact]
    public void The_committed_sample_reads_as_64_labelled_28x28_images()
    {
        FashionMnist f = FashionMnist.Load(TestPaths.Data("tokens", "fashion-64-images-idx3-ubyte.gz"), TestPaths.Data("tokens", "fashion-64-labels-idx1-ubyte.gz"));
        Assert.Equal(64, f.Count);
        Assert.Equal(28, f.Side);
        Assert.Equal(9, f.Label(0)); // the first training image is an ankle boot
        PixelImage padded = FashionMnist.PadTo32(f.Image(0));
        Assert.Equal(32, padded.Width);
        Assert.Equal(f.Image(0).Pixels.Sum(p => (long)p), padded.Pixels.Sum(p => (long)p));
        Assert.Equal(0, padded.Row(0)[5]);
        Assert.Equal(f.Image(0).Row(10)[14], padded.Row(12)[16]);
    }

    [Fact]
    public void Plain_idx_reads_the_same_and_bad_headers_are_typed_errors()
    {
        string dir = TestPaths.NewTempDirectory();
        using (var gz = new System.IO.Compression.GZipStream(File.OpenRead(TestPaths.Data("tokens", "fashion-64-labels-idx1-ubyte.gz")), System.IO.Compression.CompressionMode.Decompress))
        using (FileStream plain = File.Create(Path.Combine(dir, "labels")))
        {
            gz.CopyTo(plain);
        }

        IdxArray labels = IdxReader.Read(Path.Combine(dir, "labels"));
        Assert.Equal([64], labels.Dimensions);
        File.WriteAllBytes(Path.Combine(dir, "bad"), [0, 0, 8, 1, 0xFF, 0xFF, 0xFF, 0xFF]);
        Assert.Throws<InvalidDataException>(() => IdxReader.Read(Path.Combine(dir, "bad")));
        File.WriteAllBytes(Path.Combine(dir, "bad"), [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
        Assert.Throws<InvalidDataException>(() => IdxReader.Read(Path.Combine(dir, "bad")));
        File.WriteAllBytes(Path.Combine(dir, "bad"), [0, 0, 8, 1, 0, 0, 0, 9, 1, 2]);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => IdxReader.Read(Path.Combine(dir, "bad"))).Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_debian_training_set_has_60000_images()
    {
        Skip.IfNot(File.Exists(Path.Combine(FashionMnist.DebianDirectory, "train-labels-idx1-ubyte.gz")), "dataset-fashion-mnist is not installed");
        Assert.Equal(60000, FashionMnist.LoadDebian().Count);
    }
}
