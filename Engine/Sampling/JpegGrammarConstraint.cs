using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;

namespace JpegLm.Engine.Sampling;

/// <summary>
/// Grammar-constrained sampling for JPEG token streams: before each token, only tokens all of whose bytes
/// can continue the scan towards a valid, complete stream are allowed (the checker's incremental
/// <see cref="JpegScanState"/> lifted to the BPE vocabulary by <see cref="JpegTokenConstraint"/>); EOS is
/// allowed exactly when the stream is complete. So every finished sample decodes and passes <c>jpeglm check</c>.
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

    /// <inheritdoc/>
    public void FillAllowed(Span<bool> allowed) => _tokens.FillAllowed(in _state, allowed);

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
