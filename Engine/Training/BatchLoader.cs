namespace JpegLm.Engine.Training;

/// <summary>
/// Cuts a token source into batches of <c>B</c> rows of <c>T</c> inputs and their next-token targets,
/// walking the concatenated documents in order and wrapping around at the end. Its whole state is
/// <see cref="Position"/>, saved in trainer checkpoints so a resumed run sees the same batches.
/// </summary>
/// <remarks>
/// Rows are numbered from <see cref="Position"/>: row <c>j</c> is the <c>j</c>-th window of <c>T + 1</c> tokens
/// a sequential reader would take next (<see cref="RowStart"/>). Data-parallel ranks share one position and read
/// disjoint rows of it (<see cref="Fill"/> with a stride: rank <c>r</c> of <c>R</c> takes rows <c>b·R + r</c>), so
/// the data each rank sees is a pure function of the position, its rank and the rank count.
/// </remarks>
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
    /// Where row <paramref name="row"/> (0-based, counted from <see cref="Position"/>) starts: the rows follow each
    /// other every <c>T</c> tokens, and a row that would not fit whole before the end starts again at token 0.
    /// </summary>
    public long RowStart(long row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        long total = _source.Length, t = Length;
        long first = Position >= 0 && Position + t + 1 <= total ? Position : 0;
        long beforeWrap = ((total - 1 - t - first) / t) + 1;
        if (row < beforeWrap)
        {
            return first + (row * t);
        }

        long windows = (total - 1) / t;
        return (row - beforeWrap) % windows * t;
    }

    /// <summary>
    /// Fills <paramref name="inputs"/> and <paramref name="targets"/> (<c>B·T</c> each) and advances; with
    /// <paramref name="structure"/>, also the inputs' structure ids (<c>[F, B·T]</c>) into <paramref name="structureIds"/>.
    /// </summary>
    public void Next(Span<int> inputs, Span<int> targets, TokenStructure? structure = null, Span<int> structureIds = default)
    {
        Fill(inputs, targets, structure, structureIds, 0, 1);
        Advance(Batch);
    }

    /// <summary>
    /// Fills the batch with rows <c>firstRow + b · stride</c> for <c>b = 0 … B−1</c> (see <see cref="RowStart"/>)
    /// without moving <see cref="Position"/>; with <paramref name="structure"/>, also their structure ids.
    /// </summary>
    public void Fill(Span<int> inputs, Span<int> targets, TokenStructure? structure, Span<int> structureIds, long firstRow, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        for (int b = 0; b < Batch; b++)
        {
            long start = RowStart(firstRow + ((long)b * stride));
            _source.Read(start, _window);
            _window.AsSpan(0, Length).CopyTo(inputs.Slice(b * Length, Length));
            _window.AsSpan(1, Length).CopyTo(targets.Slice(b * Length, Length));
            structure?.Read(start, Length, structureIds, Batch * Length, b * Length);
        }
    }

    /// <summary>Moves <see cref="Position"/> past <paramref name="rows"/> rows (to the end of the last one, as reading them in turn would).</summary>
    public void Advance(long rows)
    {
        if (rows > 0)
        {
            Position = RowStart(rows - 1) + Length;
        }
    }
}
