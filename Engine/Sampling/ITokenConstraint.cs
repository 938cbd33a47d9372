namespace JpegLm.Engine.Sampling;

/// <summary>
/// Decides which tokens may come next, e.g. a JPEG grammar checker. One instance per sample: the sampler
/// calls <see cref="Accept"/> for every prompt token in order, then before each new token asks
/// <see cref="FillAllowed"/> and afterwards reports the chosen token through <see cref="Accept"/>. The sampler fills
/// a step's mask on a worker thread while the model computes the step's logits, so <see cref="FillAllowed"/> may run
/// on another thread than <see cref="Accept"/> — never at the same time on one instance, and always after the
/// <see cref="Accept"/> calls it depends on.
/// </summary>
public interface ITokenConstraint
{
    /// <summary>
    /// Sets <c>allowed[id]</c> for every token id that may come next (the span arrives all true).
    /// <paramref name="tokensLeft"/> is how many tokens the sample may still produce, this one and EOS
    /// included, so a rule that knows its shortest completion can refuse tokens after which it cannot end in time.
    /// </summary>
    void FillAllowed(Span<bool> allowed, int tokensLeft);

    /// <summary>Advances the constraint's state past <paramref name="token"/>.</summary>
    void Accept(int token);
}
