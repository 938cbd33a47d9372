using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Jpeg;

public class JpegTokenConstraintTests
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

    [Fact]
    public void Under_a_token_budget_even_an_adversary_that_drags_the_stream_out_always_finishes_within_it()
    {
        BpeVocabulary v = Vocabulary.Value;
        JpegTokenConstraint constraint = Constraint(v);
        Assert.True(constraint.CoversEveryByte);
        var rng = new Random(5);
        var allowed = new bool[v.Size];
        int runs = 0, tight = 0;
        foreach (JpegProfile profile in new[] { JpegProfile.Standard("g", 16, 16, 25, JpegProfile.Grey, 1), JpegProfile.Standard("c", 32, 16, 25, JpegProfile.Yuv420, 1), JpegProfile.Standard("n", 24, 8, 25, JpegProfile.Grey, 0) })
        {
            var start = new JpegScanState(profile.TokenGrammar());
            long minimum = constraint.TokensToFinish(start);
            Assert.Equal(0, constraint.FillAllowed(start, allowed, 1)); // only EOS would fit, and the stream is not complete
            foreach (int slack in new[] { 0, 1, 3, 10, 40, 200 })
            {
                for (int trial = 0; trial < 6; trial++, runs++)
                {
                    // The adversary takes the allowed token that leaves the longest shortest completion (random
                    // among ties, or any allowed token one time in four): it walks into ZRL chains, long codes
                    // and FF bytes, which is what runs a sample out of tokens.
                    int cap = (int)minimum + slack;
                    var state = start;
                    var tokens = new List<int>();
                    bool finished = false;
                    for (int left = cap; left > 0 && !finished; left--)
                    {
                        Assert.True(constraint.FillAllowed(state, allowed, left) > 0, $"{profile.Name}: empty mask with {left} of {cap} left");
                        int[] choices = [.. Enumerable.Range(0, v.Size).Where(i => allowed[i])];
                        int pick = rng.Next(4) == 0 ? choices[rng.Next(choices.Length)] : Longest(constraint, state, choices, rng);
                        if (pick == BpeVocabulary.Eos)
                        {
                            finished = true;
                            continue;
                        }

                        Assert.True(constraint.Advance(ref state, pick));
                        Assert.True(constraint.TokensToFinish(state) <= left - 1);
                        tokens.Add(pick);
                    }

                    Assert.True(finished, $"{profile.Name}: cap {cap} ran out");
                    tight += tokens.Count + 1 == cap ? 1 : 0;
                    JpegScanReport report = JpegScanChecker.CheckFile(profile.FromTokenBytes(v.Decode([.. tokens])), profile.HuffmanSpecs());
                    Assert.True(report.IsValid);
                }
            }
        }

        // The adversary does use the whole budget, so the refusals are what kept it in.
        Assert.True(tight > runs / 2, $"{tight}/{runs} samples used their whole cap");
    }

    private static int Longest(JpegTokenConstraint constraint, JpegScanState state, int[] choices, Random rng)
    {
        long best = -1;
        var ties = new List<int>();
        foreach (int id in choices)
        {
            JpegScanState next = state;
            long rest = id == BpeVocabulary.Eos ? -1 : constraint.Advance(ref next, id) ? next.ShortestCompletion() : -2;
            if (rest > best)
            {
                best = rest;
                ties.Clear();
            }

            if (rest == best)
            {
                ties.Add(id);
            }
        }

        return ties[rng.Next(ties.Count)];
    }

    private static JpegProfile JsonClone(JpegProfile p, bool keep) => new()
    {
        Name = p.Name, Width = p.Width, Height = p.Height, Quality = p.Quality, Subsampling = p.Subsampling,
        RestartInterval = p.RestartInterval, QuantizationTables = p.QuantizationTables, HuffmanTables = p.HuffmanTables, KeepHeaders = keep,
    };
}
