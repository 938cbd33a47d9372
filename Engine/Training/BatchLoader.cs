namespace JpegLm.Engine.Training;

/// <summary>
/// Cuts a token source into batches of <c>B</c> rows of <c>T</c> inputs and their next-token targets,
/// walking the concatenated documents in order and wrapping around at the end. Its whole state is
/// <see cref="Position"/>, saved in trainer checkpoints so a resumed run sees the same batches.
/// </summary>
public sealed class BatchLoader
{
    private readonly ITokenSource _source;
    private readonly int[] _window;

    /// <summary>Creates a loader for <paramref name="batch"/> × <paramref name="length"/> batches.</summary>
    public BatchLoader(ITokenSource source, int batch, int length)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        if (source.Length < length + 1)
        {
            throw new ArgumentException($"a token source of {source.Length} tokens cannot fill one sequence of {length} + 1");
        }

        Batch = batch;
        Length = length;
        _window = new int[length + 1];
    }

    /// <summary>Rows per batch.</summary>
    public int Batch { get; }

    /// <summary>Tokens per row.</summary>
    public int Length { get; }

    /// <summary>Token index where the next row starts.</summary>
    public long Position { get; set; }

    /// <summary>
    /// Fills <paramref name="inputs"/> and <paramref name="targets"/> (<c>B·T</c> each) and advances; with
    /// <paramref name="structure"/>, also the inputs' structure ids (<c>[F, B·T]</c>) into <paramref name="structureIds"/>.
    /// </summary>
    public void Next(Span<int> inputs, Span<int> targets, TokenStructure? structure = null, Span<int> structureIds = default)
    {
        for (int b = 0; b < Batch; b++)
        {
            if (Position + Length + 1 > _source.Length)
            {
                Position = 0;
            }

            _source.Read(Position, _window);
            _window.AsSpan(0, Length).CopyTo(inputs.Slice(b * Length, Length));
            _window.AsSpan(1, Length).CopyTo(targets.Slice(b * Length, Length));
            structure?.Read(Position, Length, structureIds, Batch * Length, b * Length);
            Position += Length;
        }
    }
}
