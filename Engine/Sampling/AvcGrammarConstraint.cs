using JpegLm.Codec.Avc;
using JpegLm.Codec.Tokens;

namespace JpegLm.Engine.Sampling;

/// <summary>
/// Grammar-constrained sampling for H.264 token streams (the <see cref="BacktrackingSampler"/> rule): every
/// token's bytes go to an <see cref="AvcStreamValidator"/>, which judges each NAL unit (a slice — one
/// macroblock in the AVC-LM profile) with the checker's own parser when the next start code completes it.
/// A token that completes a broken slice, or EOS where the stream cannot end (an unfinished picture), is
/// rejected and another is drawn; when a position has no acceptable token the rule backs up to the start of
/// the unfinished slice (and one slice further each time the same point fails again), and the slice is drawn
/// anew. So every finished sample passes <c>jpeglm check</c> and has only whole pictures.
/// </summary>
public sealed class AvcGrammarConstraint : IBacktrackingConstraint
{
    private readonly BpeVocabulary _vocabulary;
    private readonly AvcStreamValidator _validator;
    private readonly List<int> _ends = []; // stream length after each generated token; [0] = the prompt's
    private readonly Dictionary<int, int> _failuresAt = [];

    /// <summary>
    /// Starts after <paramref name="initialBytes"/>: the profile's parameter sets and the prompt's token bytes
    /// (a prompt is cut at a picture's first slice, see the CLI's prompt handling).
    /// </summary>
    /// <exception cref="AvcFormatException">The initial bytes are not a valid stream.</exception>
    public AvcGrammarConstraint(BpeVocabulary vocabulary, ReadOnlySpan<byte> initialBytes, AvcValidatorOptions? options = null)
    {
        _vocabulary = vocabulary ?? throw new ArgumentNullException(nameof(vocabulary));
        _validator = new AvcStreamValidator(initialBytes, options);
        _ends.Add(_validator.Length);
    }

    /// <summary>The stream so far (initial bytes included).</summary>
    public ReadOnlySpan<byte> Bytes => _validator.Bytes;

    /// <summary>The validator's last refusal, for diagnostics.</summary>
    public string? LastRefusal => _validator.LastRefusal;

    /// <inheritdoc/>
    public TokenVerdict Propose(int token)
    {
        if (token == BpeVocabulary.Eos)
        {
            return _validator.TryEnd() ? TokenVerdict.Accepted : TokenVerdict.Rejected;
        }

        if (BpeVocabulary.IsSpecial(token) || (uint)token >= (uint)_vocabulary.Size)
        {
            return TokenVerdict.Rejected;
        }

        if (!_validator.TryAppend(_vocabulary.TokenBytes(token)))
        {
            return TokenVerdict.Rejected;
        }

        _ends.Add(_validator.Length);
        return TokenVerdict.Accepted;
    }

    /// <inheritdoc/>
    public int Backtrack()
    {
        int generated = _ends.Count - 1;
        if (generated == 0)
        {
            return -1; // only the prompt is left, and it is fixed
        }

        // Back up to the start of the unfinished slice; a point that has failed before gets one slice more each time.
        int target = _validator.PendingNalStart;
        int failures = _failuresAt.TryGetValue(target, out int f) ? f : 0;
        _failuresAt[target] = failures + 1;
        for (int extra = 0; extra < failures / 2 && target > _ends[0]; extra++)
        {
            _validator.Truncate(Math.Max(_ends[0], TokenBoundaryAtOrBefore(target)));
            target = _validator.PendingNalStart;
        }

        int keep = Math.Max(0, Math.Min(generated - 1, TokenIndexAtOrBefore(target)));
        _validator.Truncate(_ends[keep]);
        _ends.RemoveRange(keep + 1, _ends.Count - keep - 1);
        return keep;
    }

    // Generated tokens whose bytes all end at or before `offset`.
    private int TokenIndexAtOrBefore(int offset)
    {
        int k = _ends.BinarySearch(offset);
        return k >= 0 ? k : ~k - 1;
    }

    private int TokenBoundaryAtOrBefore(int offset) => _ends[Math.Max(0, TokenIndexAtOrBefore(offset))];
}
