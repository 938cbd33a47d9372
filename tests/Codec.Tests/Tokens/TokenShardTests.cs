using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Tokens;

public class TokenShardTests
{
    private static readonly BpeVocabulary Vocabulary = new([(1, 2), (259, 3)]);

    private static string WriteShard(string dir, int width, params int[][] docs)
    {
        string path = Path.Combine(dir, "s.tok");
        using var w = new TokenShardWriter(path, Vocabulary, JpegProfile.Paper(), width);
        foreach (int[] d in docs)
        {
            w.WriteDocument(d);
        }

        Assert.False(File.Exists(path));
        w.Commit();
        Assert.True(File.Exists(path));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(Path.GetFullPath(path))!, "*.tmp"));
        return path;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Written_documents_read_back_through_the_memory_map(int width)
    {
        string path = WriteShard(TestPaths.NewTempDirectory(), width, [1, 2, 259], [], [260, 255, 0]);
        using TokenShardReader r = TokenShardReader.Open(path, Vocabulary.ContentHash(), JpegProfile.Paper().ContentHash());
        Assert.Equal(3, r.Header.DocumentCount);
        Assert.Equal(12, r.TokenCount);
        int[] all = new int[r.TokenCount];
        r.CopyTokens(0, all);
        Assert.Equal(new[] { 256, 1, 2, 259, 257, 256, 257, 256, 260, 255, 0, 257 }, all);
        Assert.Equal(new[] { (0L, 5L), (5L, 2L) }, r.Documents().Take(2).ToArray());
        Assert.Equal(3, r.Documents().Count());
        if (width == 2)
        {
            Assert.Equal(259, r.Tokens16[3]);
            Assert.Throws<InvalidOperationException>(() => r.Tokens32.Length);
        }
        else
        {
            Assert.Equal(259u, r.Tokens32[3]);
        }
    }

    [Fact]
    public void Mismatched_hashes_and_truncation_are_clear_errors()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = WriteShard(dir, 2, [1, 2, 3]);
        TokenFormatException e = Assert.Throws<TokenFormatException>(() => TokenShardReader.Open(path, expectedVocabularyHash: 42));
        Assert.Contains("vocabulary", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<TokenFormatException>(() => TokenShardReader.Open(path, expectedProfileHash: JpegProfile.FashionMnist().ContentHash()));
        Assert.Contains("profile", e.Message, StringComparison.Ordinal);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^1]);
        e = Assert.Throws<TokenFormatException>(() => TokenShardReader.Open(path));
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        File.WriteAllBytes(path, bytes[..30]);
        Assert.Throws<TokenFormatException>(() => TokenShardReader.Open(path));
        bytes[0] = (byte)'X';
        File.WriteAllBytes(path, bytes);
        Assert.Contains("magic", Assert.Throws<TokenFormatException>(() => TokenShardReader.Open(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_uncommitted_writer_leaves_nothing_behind_and_refuses_foreign_tokens()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "x.tok");
        using (var w = new TokenShardWriter(path, Vocabulary, JpegProfile.Paper()))
        {
            Assert.Throws<ArgumentException>(() => w.WriteDocument([BpeVocabulary.Eos]));
            Assert.Throws<ArgumentException>(() => w.WriteDocument([Vocabulary.Size]));
        }

        Assert.Empty(Directory.GetFiles(dir));
    }
}
