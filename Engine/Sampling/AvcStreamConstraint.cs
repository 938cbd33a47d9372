using JpegLm.Codec.Avc.Grammar;
using JpegLm.Codec.Grammar;
using JpegLm.Codec.Tokens;

namespace JpegLm.Engine.Sampling;

/// <summary>
/// Grammar-constrained sampling for H.264 token streams by masking, as for JPEG: before each token only
/// tokens all of whose bytes the profile's bit-level slice grammar (<see cref="AvcStreamState"/>) accepts are
/// allowed, and only those after which the stream can still be finished within the sample's token budget;
/// EOS is allowed exactly when every picture is whole and there are enough of them. So every sample finishes
/// within its cap (if the cap covers <see cref="TokensToFinish"/> after the prompt) and passes
/// <c>jpeglm check</c>, with no backtracking. One instance per sample; the state is a struct, so accepting a
/// token allocates nothing.
/// </summary>
public sealed class AvcStreamConstraint : ITokenConstraint
{
    private readonly GrammarTokenConstraint<AvcStreamState> _tokens;
    private AvcStreamState _state;

    /// <summary>Starts at the beginning of a token stream of <paramref name="grammar"/>.</summary>
    /// <param name="tokens">The shared token trie (<see cref="BuildTokenTable"/>).</param>
    /// <param name="grammar">The profile's grammar with its picture limits.</param>
    /// <param name="parameterSets">The profile's SPS/PPS bytes, for profiles whose token streams keep them.</param>
    public AvcStreamConstraint(GrammarTokenConstraint<AvcStreamState> tokens, AvcStreamGrammar grammar, byte[]? parameterSets = null)
    {
        _tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));
        _state = new AvcStreamState(grammar ?? throw new ArgumentNullException(nameof(grammar)), parameterSets);
    }

    /// <summary>Builds the shared, immutable token trie for a vocabulary (once per model, not per sample).</summary>
    public static GrammarTokenConstraint<AvcStreamState> BuildTokenTable(BpeVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var bytes = new byte[vocabulary.Size][];
        for (int id = 0; id < bytes.Length; id++)
        {
            bytes[id] = BpeVocabulary.IsSpecial(id) ? [] : vocabulary.TokenBytes(id).ToArray();
        }

        // No mask cache: an H.264 state holds the picture and macroblock it is in and the slice's syntax so far, so
        // the states of a batch hardly ever meet again (1 % of masks found in the cache on `jpeglm bench sampling`),
        // and the cache would only add its lookups and entries to every mask.
        return new GrammarTokenConstraint<AvcStreamState>(bytes, BpeVocabulary.Eos, cacheMasks: false);
    }

    /// <summary>The stream state after the tokens accepted so far.</summary>
    public AvcStreamState State => _state;

    /// <summary>True when a token was forced that the grammar refuses (only possible from a bad prompt).</summary>
    public bool IsFailed => _state.IsFailed;

    /// <summary>Tokens that always suffice to finish from here: the completion in single bytes, plus EOS (−1 once failed).</summary>
    public long TokensToFinish => _tokens.TokensToFinish(_state);

    /// <inheritdoc/>
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
