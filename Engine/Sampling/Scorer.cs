using JpegLm.Engine.Model;

namespace JpegLm.Engine.Sampling;

/// <summary>The log-probabilities a model gives a token sequence.</summary>
/// <param name="LogProbs"><c>LogProbs[i] = ln p(tokens[i+1] | tokens[0..i])</c>, natural log.</param>
/// <param name="MeanNll">Mean negative log-likelihood of <c>tokens[1..]</c> in nats.</param>
public sealed record ScoreResult(float[] LogProbs, double MeanNll);

/// <summary>Scores token sequences with one teacher-forced forward pass.</summary>
public static class Scorer
{
    /// <summary>
    /// Scores <paramref name="tokens"/> (at least 2, at most <c>max_position_embeddings + 1</c>). The
    /// log-softmax is computed from float32 logits with a float64 sum.
    /// </summary>
    /// <remarks>A model with structure fields needs an <paramref name="annotator"/> fresh at the sequence's start.</remarks>
    public static ScoreResult Score(LlamaModel model, ReadOnlySpan<int> tokens, ITokenAnnotator? annotator = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        int n = tokens.Length - 1;
        if (n < 1)
        {
            throw new ArgumentException("scoring needs at least two tokens");
        }

        if (n > model.Config.MaxPositionEmbeddings)
        {
            throw new ArgumentException($"{tokens.Length} tokens exceed max_position_embeddings {model.Config.MaxPositionEmbeddings} + 1");
        }

        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= model.Config.VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token {tokens[i]} at index {i} is outside the vocabulary of {model.Config.VocabSize}");
            }
        }

        int[] structure = [];
        if (model.Config.StructureFieldCount > 0)
        {
            structure = Training.TokenStructure.OfSequence(tokens[..n], annotator ?? throw new ArgumentException("this model embeds structure ids: pass an annotator"));
        }

        model.Forward(tokens[..n], tokens[1..], 1, n, structure: structure);
        float[] losses = new float[n];
        model.Kernels.Download(model.Losses, losses);
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += losses[i];
            losses[i] = -losses[i];
        }

        return new ScoreResult(losses, sum / n);
    }
}
