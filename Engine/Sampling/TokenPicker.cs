using JpegLm.Engine.Model;

namespace JpegLm.Engine.Sampling;

/// <summary>Chooses one token from a logit row: constraint mask, temperature, top-k, top-p, then a draw.</summary>
internal sealed class TokenPicker(int vocab)
{
    private readonly bool[] _allowed = new bool[vocab];
    private readonly float[] _keys = new float[vocab];
    private readonly int[] _ids = new int[vocab];

    /// <summary>The chosen token id, or −1 when the constraint allows none; <paramref name="tokensLeft"/> goes to the constraint.</summary>
    public int Pick(ReadOnlySpan<float> logits, SamplingOptions options, ITokenConstraint? rule, SplitMixRandom rng, int tokensLeft)
    {
        if (rule == null)
        {
            return Pick(logits, options, default, rng);
        }

        Array.Fill(_allowed, true);
        rule.FillAllowed(_allowed, tokensLeft);
        return Pick(logits, options, _allowed, rng);
    }

    /// <summary>The chosen token id among those <paramref name="allowed"/> (empty: all), or −1 when none is.</summary>
    public int Pick(ReadOnlySpan<float> logits, SamplingOptions options, ReadOnlySpan<bool> allowed, SplitMixRandom rng)
    {
        int count = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            if (allowed.IsEmpty || allowed[i])
            {
                _keys[count] = -logits[i]; // ascending sort of negated logits = most likely first
                _ids[count++] = i;
            }
        }

        if (count == 0)
        {
            return -1;
        }

        if (options.Temperature == 0f)
        {
            int best = 0;
            for (int i = 1; i < count; i++)
            {
                if (_keys[i] < _keys[best])
                {
                    best = i;
                }
            }

            return _ids[best];
        }

        bool truncate = (options.TopK > 0 && options.TopK < count) || options.TopP < 1f;
        if (truncate)
        {
            Array.Sort(_keys, _ids, 0, count);
        }

        if (options.TopK > 0)
        {
            count = Math.Min(count, options.TopK);
        }

        // Softmax over the candidates at the temperature, in float64.
        float min = float.PositiveInfinity;
        for (int i = 0; i < count; i++)
        {
            min = Math.Min(min, _keys[i]);
        }

        double total = 0;
        for (int i = 0; i < count; i++)
        {
            double p = Math.Exp((min - _keys[i]) / options.Temperature);
            _keys[i] = (float)p;
            total += p;
        }

        if (options.TopP < 1f)
        {
            double cumulative = 0;
            int keep = 0;
            while (keep < count && cumulative < options.TopP * total)
            {
                cumulative += _keys[keep++];
            }

            count = Math.Max(1, keep);
            total = cumulative;
        }

        double r = rng.NextDouble() * total;
        for (int i = 0; i < count; i++)
        {
            r -= _keys[i];
            if (r < 0)
            {
                return _ids[i];
            }
        }

        return _ids[count - 1];
    }
}
