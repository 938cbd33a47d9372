using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Pipeline;

/// <summary>Where in the scan a position is, for <see cref="GrammarDiagnostics"/>.</summary>
internal enum ScanPositionKind
{
    /// <summary>The next symbol codes a DC difference.</summary>
    Dc,

    /// <summary>An AC coefficient among the first nine of the zig-zag order (the low frequencies).</summary>
    LowAc,

    /// <summary>An AC coefficient from the tenth on (the high frequencies q25 data rarely has).</summary>
    HighAc,

    /// <summary>Between a block's end and the next patch: padding bits, a restart marker.</summary>
    Restart,

    /// <summary>The stream is complete: only EOS is right.</summary>
    End,
}

/// <summary>
/// How much probability a JPEG model puts on tokens the grammar forbids, by position kind: teacher-forced over held-out
/// documents, at each position the softmax mass of the tokens the scan checker refuses there. Constrained sampling
/// removes that mass and renormalises over the rest, so a large figure means the mask is doing the model's work.
/// </summary>
internal static class GrammarDiagnostics
{
    /// <summary>Mean forbidden mass and number of positions for each <see cref="ScanPositionKind"/>.</summary>
    public static IReadOnlyDictionary<ScanPositionKind, (double Mass, long Positions)> ForbiddenMass(LlamaModel model, JpegProfile profile,
        BpeVocabulary vocabulary, IReadOnlyList<int[]> documents)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(documents);
        JpegScanGrammar grammar = profile.TokenGrammar();
        var structure = new JpegScanStructure(grammar);
        JpegTokenConstraint table = JpegGrammarConstraint.BuildTokenTable(vocabulary);
        Func<ITokenAnnotator>? annotators = TokenAnnotators.For(model.Config, profile, vocabulary);
        int v = model.Config.VocabSize;
        var sums = new Dictionary<ScanPositionKind, (double Mass, long Positions)>();
        bool[] allowed = new bool[Math.Max(v, table.VocabularySize)];
        Span<int> ids = stackalloc int[3];
        foreach (int[] doc in documents)
        {
            int n = Math.Min(doc.Length - 1, model.Config.MaxPositionEmbeddings);
            if (n < 1)
            {
                continue;
            }

            int[] structureIds = annotators == null ? [] : TokenStructure.OfSequence(doc.AsSpan(0, n), annotators());
            model.Forward(doc.AsSpan(0, n), default, 1, n, structure: structureIds);
            float[] logits = new float[n * v];
            model.Kernels.Download(model.Logits, logits);
            JpegScanState state = structure.Start();
            for (int i = 0; i < n; i++)
            {
                int t = doc[i];
                if (t != BpeVocabulary.Bos && !table.Advance(ref state, t))
                {
                    break; // the document itself broke the grammar (it never does for prepared data)
                }

                table.FillAllowed(state, allowed);
                structure.Fill(state, ids);
                ScanPositionKind kind = Kind(ids[1] - structure.FieldSizes[0], grammar.BlocksPerMcu, state.IsComplete);
                ReadOnlySpan<float> row = logits.AsSpan(i * v, v);
                float max = float.NegativeInfinity;
                foreach (float x in row)
                {
                    max = MathF.Max(max, x);
                }

                double total = 0, forbidden = 0;
                for (int id = 0; id < v; id++)
                {
                    double e = Math.Exp(row[id] - max);
                    total += e;
                    if (!allowed[id])
                    {
                        forbidden += e;
                    }
                }

                (double mass, long count) = sums.GetValueOrDefault(kind);
                sums[kind] = (mass + (forbidden / total), count + 1);
            }
        }

        return sums.ToDictionary(kv => kv.Key, kv => (kv.Value.Mass / Math.Max(1, kv.Value.Positions), kv.Value.Positions));
    }

    private static ScanPositionKind Kind(int slot, int blocksPerMcu, bool complete)
    {
        if (complete)
        {
            return ScanPositionKind.End;
        }

        if (slot >= blocksPerMcu * 64)
        {
            return ScanPositionKind.Restart;
        }

        int k = slot % 64;
        return k == 0 ? ScanPositionKind.Dc : k < 10 ? ScanPositionKind.LowAc : ScanPositionKind.HighAc;
    }
}
