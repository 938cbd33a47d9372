using JpegLm.Engine.Model;

namespace JpegLm.Engine.Sampling;

/// <summary>What a <see cref="IBacktrackingConstraint"/> says of a proposed token.</summary>
public enum TokenVerdict
{
    /// <summary>The token is taken; the constraint's state moved past it.</summary>
    Accepted,

    /// <summary>The token cannot come next; the state is unchanged and another token is drawn.</summary>
    Rejected,

    /// <summary>No token can come next (the unit being written is already broken): back up at once.</summary>
    DeadEnd,
}

/// <summary>
/// A rule that judges tokens one at a time and can take generated tokens back — for formats whose validity is
/// only known at the end of a unit (an H.264 slice), where masking the whole vocabulary ahead of every step
/// would need a copy of the parser per token. See <see cref="BacktrackingSampler"/>.
/// </summary>
public interface IBacktrackingConstraint
{
    /// <summary>Judges <paramref name="token"/> as the next token; on <see cref="TokenVerdict.Accepted"/> the state advances.</summary>
    TokenVerdict Propose(int token);

    /// <summary>
    /// Called when no acceptable token is found at the current position: rolls the state back and returns how
    /// many of the generated tokens remain (fewer than now), or -1 when nothing can be taken back.
    /// </summary>
    int Backtrack();
}

/// <summary>
/// Generation of one sample at a time under an <see cref="IBacktrackingConstraint"/>: each drawn token is
/// proposed; rejected ones are masked and another is drawn from the same distribution (so accepted tokens
/// follow the model's distribution restricted to what the rule accepts); when a position has no acceptable
/// token among <see cref="MaxRejectionsPerStep"/> draws, the rule backs up, the KV cache is cut back to the
/// same length and generation resumes from there with the random stream moving on — depth first: the token
/// taken back first is barred at the position generation resumes from.
/// </summary>
public sealed class BacktrackingSampler(LlamaModel model)
{
    private readonly LlamaModel _model = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>Draws at one position before the rule is asked to back up (default: until every token is refused).</summary>
    public int MaxRejectionsPerStep { get; init; } = int.MaxValue;

    /// <summary>Model steps (forward passes) allowed per sample, as a multiple of <see cref="SamplingOptions.MaxNewTokens"/> (redone work included).</summary>
    public int StepBudgetFactor { get; init; } = 6;

    /// <summary>Times the rule backed up in the last <see cref="Generate"/> call.</summary>
    public int Backtracks { get; private set; }

    /// <summary>Tokens rejected in the last <see cref="Generate"/> call.</summary>
    public int Rejections { get; private set; }

    /// <summary>Generates one continuation of <paramref name="prompt"/> that <paramref name="rule"/> accepts to its end.</summary>
    public SampleResult Generate(ReadOnlySpan<int> prompt, SamplingOptions options, IBacktrackingConstraint rule)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(rule);
        LlamaConfig cfg = _model.Config;
        int vocab = cfg.VocabSize;
        if (prompt.IsEmpty || options.MaxNewTokens < 1)
        {
            throw new ArgumentException("sampling needs a non-empty prompt and at least one new token");
        }

        foreach (int t in prompt)
        {
            if ((uint)t >= vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(prompt), $"prompt token {t} is outside the vocabulary of {vocab}");
            }
        }

        int? eos = options.EosTokenId ?? cfg.EosTokenId;
        using var cache = new KvCache(_model.Kernels, cfg, 1, prompt.Length + options.MaxNewTokens);
        using var forward = new CachedForward(_model, prompt.Length, 1);
        var rng = new SplitMixRandom(options.Seed);
        var picker = new TokenPicker(vocab);
        var mask = new RejectedTokens(vocab);
        float[] logits = new float[vocab];
        var output = new List<int>();
        Backtracks = 0;
        Rejections = 0;
        long budget = (long)options.MaxNewTokens * StepBudgetFactor, steps = 1;
        forward.Run(cache, prompt, logits);
        int[] one = new int[1];
        int rejectedHere = 0;
        while (steps < budget)
        {
            int token = rejectedHere < MaxRejectionsPerStep ? picker.Pick(logits, options, mask, rng, options.MaxNewTokens - output.Count) : -1;
            if (token < 0)
            {
                int keep = rule.Backtrack();
                if (keep < 0 || keep > output.Count)
                {
                    return new SampleResult([.. output], FinishReason.Constraint);
                }

                // Depth-first: the token taken back first may not be drawn again at the position resumed from.
                int banned = keep < output.Count ? output[keep] : -1;
                Backtracks++;
                output.RemoveRange(keep, output.Count - keep);
                cache.Truncate(prompt.Length + keep - 1); // recompute the logits after the last kept token
                one[0] = keep == 0 ? prompt[^1] : output[^1];
                forward.Run(cache, one, logits);
                steps++;
                mask.Clear();
                rejectedHere = 0;
                if (banned >= 0)
                {
                    mask.Reject(banned);
                }

                continue;
            }

            TokenVerdict verdict = rule.Propose(token);
            if (verdict != TokenVerdict.Accepted)
            {
                mask.Reject(token);
                rejectedHere = verdict == TokenVerdict.DeadEnd ? MaxRejectionsPerStep : rejectedHere + 1;
                Rejections++;
                continue;
            }

            output.Add(token);
            mask.Clear();
            rejectedHere = 0;
            if (token == eos)
            {
                return new SampleResult([.. output], FinishReason.EndOfSequence);
            }

            if (output.Count == options.MaxNewTokens)
            {
                return new SampleResult([.. output], FinishReason.Length);
            }

            one[0] = token;
            forward.Run(cache, one, logits);
            steps++;
        }

        return new SampleResult([.. output], FinishReason.Length);
    }

    // The tokens refused at the current position, as a mask for the picker.
    private sealed class RejectedTokens(int vocab) : ITokenConstraint
    {
        private readonly bool[] _rejected = new bool[vocab];
        private readonly List<int> _list = [];

        public void Reject(int token)
        {
            _rejected[token] = true;
            _list.Add(token);
        }

        public void Clear()
        {
            foreach (int t in _list)
            {
                _rejected[t] = false;
            }

            _list.Clear();
        }

        public void FillAllowed(Span<bool> allowed, int tokensLeft)
        {
            foreach (int t in _list)
            {
                allowed[t] = false;
            }
        }

        public void Accept(int token)
        {
        }
    }
}
