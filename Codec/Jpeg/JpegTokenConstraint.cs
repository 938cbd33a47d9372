using JpegLm.Codec.Grammar;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Lifts the byte-level <see cref="JpegScanState"/> to a token vocabulary for constrained sampling (the
/// trie walk of <see cref="GrammarTokenConstraint{TState}"/>, shared with H.264): which tokens can come next
/// such that every one of their bytes is allowed and, under a budget, the scan can still be finished in time.
/// </summary>
public sealed class JpegTokenConstraint : GrammarTokenConstraint<JpegScanState>
{
    /// <summary>Builds the trie.</summary>
    /// <param name="tokenBytes">For each token id, the bytes it stands for (empty for specials).</param>
    /// <param name="endOfStreamToken">The id that ends a stream, allowed only when the state is complete.</param>
    /// <param name="cacheMasks">Cache masks by scan state (the default); false walks the trie for every mask.</param>
    public JpegTokenConstraint(IReadOnlyList<byte[]> tokenBytes, int endOfStreamToken, bool cacheMasks = true)
        : base(tokenBytes, endOfStreamToken, cacheMasks)
    {
    }
}
