using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Jpeg;

public class JpegScanCheckerTokensTests
{
    private static readonly Lazy<BpeVocabulary> Vocabulary = new(() => BpeTrainer.Train(
        [.. Directory.GetFiles(TestPaths.Data("tokens"), "paper-?.jpg").Order().Select(f => JpegProfile.Paper().ToTokenBytes(File.ReadAllBytes(f)))], 320).Vocabulary);

    private static JpegTokenConstraint Constraint(BpeVocabulary v)
        => new([.. Enumerable.Range(0, v.Size).Select(i => v.TokenBytes(i).ToArray())], BpeVocabulary.Eos);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_actual_next_token_of_a_valid_stream_is_allowed_and_matches_brute_force(bool keepHeaders)
    {
        BpeVocabulary v = Vocabulary.Value;
        JpegProfile paper = JpegProfile.Paper();
        JpegProfile profile = keepHeaders ? JsonClone(paper, keep: true) : paper;
        byte[] file = File.ReadAllBytes(TestPaths.Data("tokens", "paper-2.jpg"));
        int[] tokens = new BpeEncoder(v).Encode(profile.ToTokenBytes(file));
        JpegTokenConstraint constraint = Constraint(v);
        var state = new JpegScanState(profile.TokenGrammar());
        var allowed = new bool[v.Size];
        for (int i = 0; i < tokens.Length; i++)
        {
            int count = constraint.FillAllowed(state, allowed);
            Assert.True(allowed[tokens[i]], $"token {i} ({tokens[i]}) not allowed");
            Assert.Equal(allowed.Count(a => a), count);
            Assert.False(allowed[BpeVocabulary.Eos]);
            if (i % 97 == 0)
            {
                for (int id = 0; id < v.Size; id++)
                {
                    JpegScanState copy = state;
                    Assert.Equal(constraint.Advance(ref copy, id) && id != BpeVocabulary.Eos, allowed[id]);
                }
            }

            Assert.True(constraint.Advance(ref state, tokens[i]));
        }

        Assert.True(state.IsComplete);
        constraint.FillAllowed(state, allowed);
        Assert.True(allowed[BpeVocabulary.Eos]);
        Assert.Equal(1, allowed.Count(a => a));
    }

    [Fact]
    public void Sampling_allowed_tokens_gives_files_the_batch_checker_accepts()
    {
        BpeVocabulary v = Vocabulary.Value;
        JpegTokenConstraint constraint = Constraint(v);
        var rng = new Random(99);
        var allowed = new bool[v.Size];
        foreach (JpegProfile profile in new[] { JpegProfile.Standard("g", 16, 16, 25, JpegProfile.Grey, 1), JpegProfile.Standard("c", 32, 16, 25, JpegProfile.Yuv420, 1) })
        {
            for (int trial = 0; trial < 10; trial++)
            {
                var state = new JpegScanState(profile.TokenGrammar());
                var tokens = new List<int>();
                while (true)
                {
                    Assert.True(constraint.FillAllowed(state, allowed) > 0);
                    if (allowed[BpeVocabulary.Eos])
                    {
                        break;
                    }

                    int[] choices = [.. Enumerable.Range(0, v.Size).Where(i => allowed[i])];
                    int t = choices[rng.Next(choices.Length)];
                    Assert.True(constraint.Advance(ref state, t));
                    tokens.Add(t);
                }

                byte[] file = profile.FromTokenBytes(v.Decode([.. tokens]));
                JpegScanReport report = JpegScanChecker.CheckFile(file, profile.HuffmanSpecs());
                Assert.True(report.IsValid, string.Join("; ", report.Issues.Select(i => $"{i.Patch}@{i.Offset}: {i.Reason}")));
            }
        }
    }

    private static JpegProfile JsonClone(JpegProfile p, bool keep) => new()
    {
        Name = p.Name, Width = p.Width, Height = p.Height, Quality = p.Quality, Subsampling = p.Subsampling,
        RestartInterval = p.RestartInterval, QuantizationTables = p.QuantizationTables, HuffmanTables = p.HuffmanTables, KeepHeaders = keep,
    };
}
