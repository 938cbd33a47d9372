using JpegLm.Engine.Sampling;

namespace JpegLm.Engine.Training;

/// <summary>
/// The structure ids of every token of a <see cref="ITokenSource"/>, computed once by walking the source in order
/// with a fresh <see cref="ITokenAnnotator"/> at each BOS (so a document cut across two training windows is still
/// annotated from its start), and kept in memory (two bytes per field per token). The trainer reads them beside
/// the tokens of each batch.
/// </summary>
public sealed class TokenStructure
{
    private readonly ushort[][] _fields;

    private TokenStructure(ushort[][] fields) => _fields = fields;

    /// <summary>Number of ids per token.</summary>
    public int FieldCount => _fields.Length;

    /// <summary>Tokens annotated.</summary>
    public long Length => _fields.Length == 0 ? 0 : _fields[0].LongLength;

    /// <summary>Annotates every token of <paramref name="source"/>; <paramref name="bos"/> starts a new annotator.</summary>
    public static TokenStructure Annotate(ITokenSource source, Func<ITokenAnnotator> annotators, int bos)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(annotators);
        ITokenAnnotator annotator = annotators();
        int fields = annotator.FieldCount;
        long length = source.Length;
        if (length > Array.MaxLength)
        {
            throw new NotSupportedException($"a token source of {length} tokens is too long to annotate in memory");
        }

        var data = new ushort[fields][];
        for (int f = 0; f < fields; f++)
        {
            data[f] = new ushort[length];
        }

        int[] chunk = new int[1 << 16];
        Span<int> ids = stackalloc int[fields];
        for (long pos = 0; pos < length; pos += chunk.Length)
        {
            int n = (int)Math.Min(chunk.Length, length - pos);
            source.Read(pos, chunk.AsSpan(0, n));
            for (int i = 0; i < n; i++)
            {
                if (chunk[i] == bos)
                {
                    annotator = annotators();
                }

                annotator.Annotate(chunk[i], ids);
                for (int f = 0; f < fields; f++)
                {
                    data[f][pos + i] = checked((ushort)ids[f]);
                }
            }
        }

        return new TokenStructure(data);
    }

    /// <summary>
    /// Copies the ids of tokens <c>[position, position + count)</c> into <paramref name="destination"/>, field f at
    /// <c>f · stride + offset</c> (the field-major <c>[F, B·T]</c> layout the model takes).
    /// </summary>
    public void Read(long position, int count, Span<int> destination, int stride, int offset)
    {
        for (int f = 0; f < _fields.Length; f++)
        {
            ReadOnlySpan<ushort> src = _fields[f].AsSpan(checked((int)position), count);
            Span<int> dst = destination.Slice((f * stride) + offset, count);
            for (int i = 0; i < count; i++)
            {
                dst[i] = src[i];
            }
        }
    }

    /// <summary>The ids of one token sequence (<c>[F, tokens.Length]</c>), from a fresh annotator.</summary>
    public static int[] OfSequence(ReadOnlySpan<int> tokens, ITokenAnnotator annotator)
    {
        ArgumentNullException.ThrowIfNull(annotator);
        int fields = annotator.FieldCount, n = tokens.Length;
        int[] result = new int[fields * n];
        Span<int> ids = stackalloc int[fields];
        for (int i = 0; i < n; i++)
        {
            annotator.Annotate(tokens[i], ids);
            for (int f = 0; f < fields; f++)
            {
                result[(f * n) + i] = ids[f];
            }
        }

        return result;
    }
}
