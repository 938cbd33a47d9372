namespace JpegLm.Engine.Model;

/// <summary>
/// The arithmetic a training step of a Llama costs, and how much of a backend's peak it uses (model FLOP/s
/// utilization, MFU). The one formula that <c>train</c>, <c>bench engine</c> and gpu-check's throughput stage report.
/// </summary>
/// <remarks>
/// The standard estimate (Kaplan et al.; PaLM's MFU; llm.c): 6 FLOPs per matrix weight and token (2 forward,
/// 4 backward) plus causal attention, 6·L·T·(query width) per token (QKᵀ and PV over on average T/2 keys,
/// 2 FLOPs per multiply-add, ×3 for forward and backward) — 6·N + 6·L·d·T for multi-head attention. Embedding
/// tables are lookups, not products, and count nothing; a tied table counts once, as the LM head it also is.
/// Norms, activations and the optimizer are left out, as MFU conventionally leaves them out.
/// </remarks>
public static class TrainingFlops
{
    /// <summary>Training FLOPs per token of <paramref name="config"/> at sequence length <paramref name="length"/>.</summary>
    public static double PerToken(LlamaConfig config, int length)
    {
        ArgumentNullException.ThrowIfNull(config);
        var layout = new LlamaParameters(config);
        long lookups = ((long)config.VocabSize * (config.TieWordEmbeddings ? 0 : 1)) + (config.StructureFields?.Sum() ?? 0);
        long matmulWeights = layout.DecayedLength - (lookups * config.HiddenSize);
        double attention = 3.0 * 2 * 2 * config.NumHiddenLayers * (length / 2.0) * config.QueryWidth;
        return 6.0 * matmulWeights + attention;
    }

    /// <summary>
    /// Model FLOP/s over the peak of the <paramref name="devices"/> that delivered them (each with
    /// <paramref name="peakPerDevice"/>); null when the peak is unknown.
    /// </summary>
    public static double? Utilization(double flopsPerSecond, double? peakPerDevice, int devices = 1)
        => peakPerDevice is > 0 && devices > 0 ? flopsPerSecond / (peakPerDevice.Value * devices) : null;
}
