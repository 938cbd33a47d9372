using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Tokens;

public class BpeTests
{
    private static List<byte[]> PaperBodies()
        => [.. Directory.GetFiles(TestPaths.Data("tokens"), "paper-?.jpg").Order()
            .Select(f => JpegProfile.Paper().ToTokenBytes(File.ReadAllBytes(f)))];

    /// <summary>The textbook definition: repeatedly merge the lowest-ranked pair present, all occurrences left to right.</summary>
    private static List<int> ReferenceEncode(BpeVocabulary v, byte[] bytes)
    {
        var t = bytes.Select(b => (int)b).ToList();
        for (int r = 0; r < v.Merges.Count; r++)
        {
            (int a, int b) = v.Merges[r];
            var o = new List<int>(t.Count);
            for (int i = 0; i < t.Count; i++)
            {
                if (i + 1 < t.Count && t[i] == a && t[i + 1] == b)
                {
                    o.Add(BpeVocabulary.FirstMerge + r);
                    i++;
                }
                else
                {
                    o.Add(t[i]);
                }
            }

            t = o;
        }

        return t;
    }

    [Fact]
    public void Encoding_the_training_corpus_reproduces_the_trainer_token_count()
    {
        List<byte[]> docs = PaperBodies();
        BpeTrainingResult result = BpeTrainer.Train(docs, 400);
        Assert.Equal(400, result.Vocabulary.Size);
        var encoder = new BpeEncoder(result.Vocabulary);
        Assert.Equal(result.Tokens, docs.Sum(d => (long)encoder.Encode(d).Length));
        Assert.True(result.Tokens < result.Bytes);
    }

    [Fact]
    public void Fast_encoder_equals_the_reference_definition_on_jpeg_and_random_data()
    {
        List<byte[]> docs = PaperBodies();
        var rng = new Random(5);
        byte[] runs = [.. Enumerable.Range(0, 3000).Select(i => (byte)(rng.Next(4) == 0 ? rng.Next(256) : (i / 7) % 3))];
        BpeVocabulary v = BpeTrainer.Train([.. docs, runs], 330).Vocabulary;
        Assert.Contains(v.Merges, m => m.Left == m.Right); // overlapping pairs are exercised
        var encoder = new BpeEncoder(v);
        foreach (byte[] d in docs.Append(runs))
        {
            Assert.Equal(ReferenceEncode(v, d), encoder.Encode(d));
        }

        for (int trial = 0; trial < 200; trial++)
        {
            var bytes = new byte[rng.Next(0, 400)];
            int alphabet = 1 + rng.Next(256);
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)(trial % 3 == 0 ? docs[0][rng.Next(docs[0].Length)] : rng.Next(alphabet));
            }

            Assert.Equal(ReferenceEncode(v, bytes), encoder.Encode(bytes));
        }
    }

    [Fact]
    public void Encoding_is_lossless_for_every_byte_string()
    {
        // Seeded random property: lengths 0..2000, alphabets from 1 symbol (long runs) to all 256,
        // and JPEG-like strings; decode(encode(x)) == x and no special ids appear.
        List<byte[]> docs = PaperBodies();
        var rng = new Random(1234);
        BpeVocabulary v = BpeTrainer.Train([.. docs, new byte[500], Enumerable.Repeat((byte)0xFF, 300).ToArray()], 320).Vocabulary;
        var encoder = new BpeEncoder(v);
        for (int trial = 0; trial < 500; trial++)
        {
            var bytes = new byte[rng.Next(0, 2000)];
            int alphabet = trial % 5 == 0 ? 1 : 1 << rng.Next(9);
            int offset = rng.Next(256);
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = (byte)((offset + rng.Next(Math.Min(alphabet, 256))) & 255);
            }

            int[] tokens = encoder.Encode(bytes);
            Assert.DoesNotContain(tokens, t => BpeVocabulary.IsSpecial(t) || t < 0 || t >= v.Size);
            Assert.Equal(bytes, v.Decode(tokens));
        }
    }

    [Fact]
    public void Vocabulary_json_round_trips_with_a_stable_hash()
    {
        BpeVocabulary v = BpeTrainer.Train(PaperBodies(), 300).Vocabulary;
        BpeVocabulary back = BpeVocabulary.FromJson(v.ToJson());
        Assert.Equal(v.Merges, back.Merges);
        Assert.Equal(v.ContentHash(), back.ContentHash());
        Assert.NotEqual(v.ContentHash(), new BpeVocabulary([.. v.Merges.Take(10)]).ContentHash());
        Assert.Equal(300, back.Size);
        Assert.True(back.TokenBytes(back.Size - 1).Length >= 2);
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => BpeVocabulary.FromJson("{\"format\":\"x\"}"));
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => BpeVocabulary.FromJson("{\"format\":\"jpeglm-byte-bpe\",\"version\":1,\"bos\":256,\"eos\":257,\"pad\":258,\"merges\":[[300,1]]}"));
    }

    [Fact]
    public void Training_is_deterministic_and_stops_when_no_pair_repeats()
    {
        List<byte[]> docs = PaperBodies();
        Assert.Equal(BpeTrainer.Train(docs, 350).Vocabulary.Merges, BpeTrainer.Train(docs, 350).Vocabulary.Merges);
        BpeTrainingResult tiny = BpeTrainer.Train([[1, 2, 3, 4]], 300);
        Assert.Equal(BpeVocabulary.FirstMerge, tiny.Vocabulary.Size);
    }
}
