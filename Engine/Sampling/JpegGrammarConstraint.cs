using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;

namespace JpegLm.Engine.Sampling;

/// <summary>
/// Grammar-constrained sampling for JPEG token streams: before each token, only tokens all of whose bytes
/// can continue the scan towards a valid, complete stream are allowed (the checker's incremental
/// <see cref="JpegScanState"/> lifted to the BPE vocabulary by <see cref="JpegTokenConstraint"/>); EOS is
/// allowed exactly when the stream is complete. So every finished sample decodes and passes <c>jpeglm check</c>;
/// and since tokens after which the rest no longer fits the sample's token budget are refused too, every
/// sample whose budget covers its shortest completion finishes.
/// One instance per sample; the state is a small struct, so this costs no allocation per token.
/// </summary>
public sealed class JpegGrammarConstraint : ITokenConstraint
{
    private readonly JpegTokenConstraint _tokens;
    private JpegScanState _state;

    /// <summary>Starts at the beginning of a stream of <paramref name="grammar"/>.</summary>
    public JpegGrammarConstraint(JpegTokenConstraint tokens, JpegScanGrammar grammar)
    {
        _tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));
        _state = new JpegScanState(grammar ?? throw new ArgumentNullException(nameof(grammar)));
    }

    /// <summary>Builds the shared, immutable token trie for a vocabulary (once per model, not per sample).</summary>
    public static JpegTokenConstraint BuildTokenTable(BpeVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var bytes = new byte[vocabulary.Size][];
        for (int id = 0; id < bytes.Length; id++)
        {
            bytes[id] = BpeVocabulary.IsSpecial(id) ? [] : vocabulary.TokenBytes(id).ToArray();
        }

        return new JpegTokenConstraint(bytes, BpeVocabulary.Eos);
    }

    /// <summary>True once the stream is complete (EOS may follow).</summary>
    public bool IsComplete => _state.IsComplete;

    /// <summary>True when a token was forced that the grammar refuses (only possible from a bad prompt).</summary>
    public bool IsFailed => _state.IsFailed;

    /// <summary>Tokens it takes at least to finish from here: the shortest completion in single bytes, plus EOS (−1 once failed).</summary>
    public long TokensToFinish => _tokens.TokensToFinish(_state);

    /// <summary>The scan state after the tokens accepted so far.</summary>
    public JpegScanState State => _state;

    /// <inheritdoc/>
    /// <remarks>
    /// Tokens after which the stream cannot be finished within <paramref name="tokensLeft"/> are refused, so a
    /// sample that starts with at least <see cref="TokensToFinish"/> tokens of budget always ends with EOS.
    /// </remarks>
    public void FillAllowed(Span<bool> allowed, int tokensLeft) => _tokens.FillAllowed(in _state, allowed, tokensLeft);

    /// <inheritdoc/>
    public void Accept(int token)
    {
        // BOS opens every sequence and carries no bytes; EOS ends it.
        if (token == BpeVocabulary.Bos || token == BpeVocabulary.Eos)
        {
            return;
        }

        _tokens.Advance(ref _state, token);
    }
}
