using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;

namespace JpegLm.Engine.Sampling;

/// <summary>
/// Gives each token the structure ids a model with structure fields (<c>LlamaConfig.StructureFields</c>) embeds
/// beside it. One instance per sequence: it is fed every token in order, prompt first, and writes the ids that
/// describe the state after that token.
/// </summary>
public interface ITokenAnnotator
{
    /// <summary>Number of ids per token.</summary>
    int FieldCount { get; }

    /// <summary>Advances past <paramref name="token"/> and writes its <see cref="FieldCount"/> ids.</summary>
    void Annotate(int token, Span<int> ids);
}

/// <summary>
/// The <see cref="JpegScanStructure"/> annotation of a JPEG token stream: runs the scan parser over each token's
/// bytes (BOS restarts it, EOS and other specials leave it as it is, a refused byte leaves it failed, which is a
/// field value of its own) and reports where it stands.
/// </summary>
public sealed class JpegStructureAnnotator : ITokenAnnotator
{
    private readonly JpegScanStructure _structure;
    private readonly JpegTokenConstraint _tokens;
    private JpegScanState _state;

    /// <summary>Starts at the beginning of a stream.</summary>
    public JpegStructureAnnotator(JpegScanStructure structure, JpegTokenConstraint tokens)
    {
        _structure = structure ?? throw new ArgumentNullException(nameof(structure));
        _tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));
        _state = structure.Start();
    }

    /// <inheritdoc/>
    public int FieldCount => _structure.FieldCount;

    /// <inheritdoc/>
    public void Annotate(int token, Span<int> ids)
    {
        if (token == BpeVocabulary.Bos)
        {
            _state = _structure.Start();
        }
        else if (!BpeVocabulary.IsSpecial(token) && (uint)token < (uint)_tokens.VocabularySize)
        {
            _tokens.Advance(ref _state, token);
        }

        _structure.Fill(_state, ids);
    }
}

/// <summary>The structure schemes a model's config can name, and the annotators they need.</summary>
public static class TokenAnnotators
{
    /// <summary>The schemes known here.</summary>
    public static IReadOnlyList<string> Schemes { get; } = [JpegScanStructure.Name];

    /// <summary>The field sizes of <paramref name="scheme"/> for data under <paramref name="profile"/>.</summary>
    /// <exception cref="NotSupportedException">An unknown scheme, or one that does not fit the profile's codec.</exception>
    public static IReadOnlyList<int> FieldSizes(string scheme, CodecProfile profile) => scheme switch
    {
        JpegScanStructure.Name when profile is JpegProfile jpeg => new JpegScanStructure(jpeg.TokenGrammar()).FieldSizes,
        _ => throw new NotSupportedException($"structure '{scheme}' does not apply to {profile?.Codec} data (known: {string.Join(", ", Schemes)} for JPEG)"),
    };

    /// <summary>
    /// The annotator factory a model with <see cref="Model.LlamaConfig.Structure"/> needs, or null for a plain
    /// Llama. Checks that the scheme's field sizes under this profile are the ones the model was built with.
    /// </summary>
    public static Func<ITokenAnnotator>? For(Model.LlamaConfig config, CodecProfile profile, BpeVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (config.Structure == null)
        {
            return null;
        }

        IReadOnlyList<int> sizes = FieldSizes(config.Structure, profile);
        if (!sizes.SequenceEqual(config.StructureFields!))
        {
            throw new NotSupportedException($"the model's {config.Structure} fields [{string.Join(',', config.StructureFields!)}] do not match this profile's [{string.Join(',', sizes)}]");
        }

        var structure = new JpegScanStructure(((JpegProfile)profile).TokenGrammar());
        JpegTokenConstraint table = JpegGrammarConstraint.BuildTokenTable(vocabulary);
        return () => new JpegStructureAnnotator(structure, table);
    }
}
