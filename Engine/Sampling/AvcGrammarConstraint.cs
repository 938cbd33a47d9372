using JpegLm.Codec.Avc;
using JpegLm.Codec.Tokens;

namespace JpegLm.Engine.Sampling;

/// <summary>
/// Grammar-constrained sampling for H.264 token streams (the <see cref="BacktrackingSampler"/> rule): every
/// token's bytes go to an <see cref="AvcStreamValidator"/>, which judges each NAL unit (a slice — one
/// macroblock in the AVC-LM profile) with the checker's own parser when the next start code completes it, and
/// parses the unfinished slice after every token so a token that breaks it is refused at once (a slice is
/// broken when its parse fails on bits already written, not merely by running out of them). A refused token is masked and another drawn; EOS is refused where the stream cannot end
/// (an unfinished picture, too few pictures). When a position has no acceptable token the rule backs up to the
/// start of the unfinished slice (one slice further each time the same point fails again) and the slice is
/// drawn anew. So every finished sample passes <c>jpeglm check</c> and has only whole pictures.
/// <para>A check parses the unfinished slice against the validator's decoder and undoes it; only a slice that
/// starts a picture, or a refusal, costs a replay of the stream so far through a parse-only decoder.</para>
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
            // The token finished the slice being written and the slice is broken. If its bytes so far cannot be
            // finished by any continuation, every token is hopeless here: say so, so the sampler backs up now.
            return _validator.PendingMayComplete() ? TokenVerdict.Rejected : TokenVerdict.DeadEnd;
        }

        if (!_validator.PendingMayComplete())
        {
            // The slice being written is already broken: refuse the token (the state goes back to before it).
            _validator.Truncate(_ends[^1]);
            return TokenVerdict.Rejected;
        }

        _ends.Add(_validator.Length);
        return TokenVerdict.Accepted;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Takes back one token at a time (the sampler bars it where it resumes) while the unfinished slice has
    /// failed fewer than <see cref="TokenBacktracksPerSlice"/> times; after that the whole slice is drawn
    /// again (a model's own slices are valid often enough that redrawing is cheaper than searching inside a
    /// slice that went wrong early), and a slice start that keeps failing costs one more slice each eighth time.
    /// </remarks>
    public int Backtrack()
    {
        int generated = _ends.Count - 1;
        if (generated == 0)
        {
            return -1; // only the prompt is left, and it is fixed
        }

        int target = _validator.PendingNalStart;
        int failures = _failuresAt.TryGetValue(target, out int f) ? f : 0;
        _failuresAt[target] = failures + 1;
        int keep;
        if (failures < TokenBacktracksPerSlice)
        {
            keep = generated - 1;
        }
        else
        {
            int rounds = (failures - TokenBacktracksPerSlice) / 8;
            for (int extra = 0; extra < rounds && target > _ends[0]; extra++)
            {
                _validator.Truncate(Math.Max(_ends[0], TokenBoundaryAtOrBefore(target)));
                target = _validator.PendingNalStart;
            }

            keep = Math.Max(0, Math.Min(generated - 1, TokenIndexAtOrBefore(target)));
        }

        _validator.Truncate(_ends[keep]);
        _ends.RemoveRange(keep + 1, _ends.Count - keep - 1);
        return keep;
    }

    /// <summary>Dead ends a slice may meet that are undone one token at a time before it is drawn again whole.</summary>
    public int TokenBacktracksPerSlice { get; init; } = 16;

    // Generated tokens whose bytes all end at or before `offset`.
    private int TokenIndexAtOrBefore(int offset)
    {
        int k = _ends.BinarySearch(offset);
        return k >= 0 ? k : ~k - 1;
    }

    private int TokenBoundaryAtOrBefore(int offset) => _ends[Math.Max(0, TokenIndexAtOrBefore(offset))];
}
