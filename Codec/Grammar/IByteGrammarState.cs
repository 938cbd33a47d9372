namespace JpegLm.Codec.Grammar;

/// <summary>
/// A byte-level grammar state for constrained sampling (the JPEG scan state, the H.264 stream state): a small
/// copyable struct that consumes one byte at a time, refuses a byte exactly when no continuation of it is a
/// valid stream, and knows the length of a completion from where it is.
/// </summary>
public interface IByteGrammarState
{
    /// <summary>True when the stream may end here.</summary>
    bool IsComplete { get; }

    /// <summary>True once a byte was refused.</summary>
    bool IsFailed { get; }

    /// <summary>Consumes one byte; false (and failed) when no valid stream continues with it.</summary>
    bool Consume(byte b);

    /// <summary>
    /// The length in bytes of a completion of this state (0 when complete, −1 when failed) such that some
    /// allowed byte leads to a state whose completion is exactly one byte shorter: the shortest completion, or
    /// any completion that continues itself. A sampler that refuses tokens after which this no longer fits its
    /// budget therefore always has a token left that fits.
    /// </summary>
    long CompletionLength();

    /// <summary>
    /// A bound on <see cref="CompletionLength"/> of this state and of every state after it, or
    /// <see cref="long.MaxValue"/> when none is known; while the budget is above it, per-candidate work is skipped.
    /// </summary>
    long CompletionBound();

    /// <summary>
    /// A bound on <see cref="CompletionLength"/> of this state alone (at most <see cref="CompletionBound"/>, which
    /// must also cover every later state, so it can be much tighter). A token after which this bound fits the budget
    /// needs no completion computed; one that does not fit is decided by its <see cref="CompletionLength"/>, so a
    /// tighter bound saves work without changing which tokens are allowed.
    /// </summary>
    long OwnCompletionBound();
}
