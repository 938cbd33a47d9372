using JpegLm.Codec.Avc.Grammar;
using JpegLm.Codec.Grammar;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Grammar;

/// <summary>
/// The token masks a <see cref="GrammarTokenConstraint{TState}"/> hands out — from its cache (JPEG) or from the trie
/// walk with the states' own completion bounds (H.264) — are exactly the rule they stand for: a token is allowed iff
/// all its bytes are accepted and the stream can still be finished after it within the budget, EOS iff complete.
/// </summary>
public class TokenMaskCacheTests
{
    private static readonly AvcProfile SmallAvc = AvcProfile.Create("t-48x32", 48, 32, fps: 3, frames: 4, qp: 30, refs: 3, sliceMaxMbs: 1);

    [Fact]
    public void Cached_jpeg_masks_are_the_trie_walks_and_the_rule_for_every_state_and_budget_on_random_walks()
    {
        JpegProfile profile = JpegProfile.Standard("g", 32, 32, 25, JpegProfile.Grey, 1);
        BpeVocabulary v = BpeTrainer.Train([.. Enumerable.Range(0, 6).Select(i => profile.ToTokenBytes(new JpegEncoder(ImageCorpus.EncoderOptions(profile)).Encode(Painted(i))))], 330).Vocabulary;
        byte[][] bytes = TokenBytes(v);
        var cached = new JpegTokenConstraint(bytes, BpeVocabulary.Eos);
        var walked = new JpegTokenConstraint(bytes, BpeVocabulary.Eos, cacheMasks: false);
        int compared = Walks(cached, walked, new JpegScanState(profile.TokenGrammar()), new Random(11), walks: 12, steps: 400);

        (long hits, long misses) = cached.CacheCounts;
        Assert.True(hits > misses, $"{hits} hits, {misses} misses: the walks should meet their states again");
        Assert.Equal((0L, 0L), walked.CacheCounts);
        Assert.True(compared > 1000);
    }

    [Fact]
    public void Avc_masks_with_the_states_own_completion_bounds_are_the_rule_for_every_state_and_budget_on_random_walks()
    {
        byte[] tokens = SmallAvc.ToTokenBytes(AvcTestClips.Encode(SmallAvc, 3, (k, f) =>
        {
            for (int i = 0; i < f.Y.Length; i++)
            {
                f.Y[i] = (byte)((i * 7) + (k * 13) + ((i % 48) * (i / 48) % 29));
            }
        }));
        BpeVocabulary v = BpeTrainer.Train([tokens], 360).Vocabulary;
        byte[][] bytes = TokenBytes(v);
        var cached = new GrammarTokenConstraint<AvcStreamState>(bytes, BpeVocabulary.Eos);
        var walked = new GrammarTokenConstraint<AvcStreamState>(bytes, BpeVocabulary.Eos, cacheMasks: false);
        int compared = Walks(cached, walked, new AvcStreamState(new AvcStreamGrammar(SmallAvc, 1, 2)), new Random(12), walks: 3, steps: 250);
        Assert.True(compared > 300);
    }

    [Fact]
    public void State_equality_the_cache_is_keyed_on_sees_every_field()
    {
        // A field the equality missed would let two different states share a cached mask.
        JpegProfile profile = JpegProfile.Standard("g", 16, 16, 25, JpegProfile.Grey, 1);
        EveryFieldCounts(new JpegScanState(profile.TokenGrammar()), new JpegScanState(JpegProfile.Standard("h", 16, 16, 30, JpegProfile.Grey, 1).TokenGrammar()));
        var grammar = new AvcStreamGrammar(SmallAvc, 1, 2);
        EveryFieldCounts(new AvcStreamState(grammar), new AvcStreamState(new AvcStreamGrammar(SmallAvc, 1, 3)));
    }

    // Changes one field at a time (by reflection, on a boxed copy) and expects the copy to differ from the original.
    private static void EveryFieldCounts<TState>(TState state, TState other)
        where TState : struct, IEquatable<TState>
    {
        var fields = typeof(TState).GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public);
        Assert.NotEmpty(fields);
        foreach (var field in fields)
        {
            object boxed = state;
            object? value = field.GetValue(boxed);
            object? changed = value switch
            {
                bool x => !x,
                byte x => (byte)(x + 1),
                int x => x + 1,
                long x => x + 1,
                ulong x => x + 1,
                null => Array.Empty<byte>(),
                _ when field.FieldType.IsEnum => Enum.ToObject(field.FieldType, Convert.ToInt64(value) + 1),
                _ when field.FieldType.IsValueType => ChangeFirstElement(value),
                _ => field.GetValue(other), // a reference (the grammar): another instance
            };
            field.SetValue(boxed, changed);
            Assert.False(state.Equals((TState)boxed), $"{typeof(TState).Name}.{field.Name} is not compared");
        }
    }

    // An inline array (the AVC state's block totals): its first element changed.
    private static object ChangeFirstElement(object? inline)
    {
        var element = inline!.GetType().GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic).Single();
        element.SetValue(inline, (byte)((byte)element.GetValue(inline)! + 1));
        return inline;
    }

    // Random walks of allowed tokens; at every state both tables' masks are compared with the rule under budgets from
    // none to the tightest, where the per-token completions decide. Returns the masks compared.
    private static int Walks<TState>(GrammarTokenConstraint<TState> cached, GrammarTokenConstraint<TState> walked, TState start, Random rng, int walks, int steps)
        where TState : struct, IByteGrammarState, IEquatable<TState>
    {
        int n = cached.VocabularySize, compared = 0;
        var a = new bool[n];
        var b = new bool[n];
        for (int walk = 0; walk < walks; walk++)
        {
            TState state = start;
            for (int step = 0; step < steps; step++)
            {
                long need = cached.TokensToFinish(state);
                Assert.True(need >= 1);
                foreach (int left in new[] { int.MaxValue, (int)need, (int)need + 1, (int)need + 3, (int)need + 20, (int)need + rng.Next(400) })
                {
                    int count = cached.FillAllowed(state, a, left);
                    Assert.Equal(count, walked.FillAllowed(state, b, left));
                    Assert.Equal(a, b);
                    Assert.Equal(a.Count(x => x), count);
                    for (int id = 0; id < n; id++)
                    {
                        Assert.Equal(Rule(cached, state, id, left), a[id]);
                    }

                    compared++;
                }

                cached.FillAllowed(state, a, int.MaxValue);
                int[] choices = [.. Enumerable.Range(0, n).Where(i => a[i])];
                int pick = choices[rng.Next(choices.Length)];
                if (pick == BpeVocabulary.Eos)
                {
                    break;
                }

                Assert.True(cached.Advance(ref state, pick));
            }
        }

        return compared;
    }

    // The rule, token by token: its bytes accepted and its completion, plus EOS, within what is left after it.
    private static bool Rule<TState>(GrammarTokenConstraint<TState> table, TState state, int id, int left)
        where TState : struct, IByteGrammarState, IEquatable<TState>
    {
        if (id == BpeVocabulary.Eos)
        {
            return state.IsComplete && left > 0;
        }

        TState next = state;
        return table.Advance(ref next, id) && (left == int.MaxValue || next.CompletionLength() is >= 0 and var rest && rest <= left - 2L);
    }

    private static byte[][] TokenBytes(BpeVocabulary v) => [.. Enumerable.Range(0, v.Size).Select(i => BpeVocabulary.IsSpecial(i) ? [] : v.TokenBytes(i).ToArray())];

    private static PixelImage Painted(int seed)
    {
        var image = new PixelImage(32, 32, 1);
        var rng = new Random(seed);
        for (int i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = (byte)(((i % 32) * (seed + 3)) + ((i / 32) * 5) + rng.Next(40));
        }

        return image;
    }
}
