using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;

namespace JpegLm.Engine.Tests.Model;

/// <summary>The one FLOPs-per-token formula: 6 per matrix weight (embedding lookups excluded) plus 6·L·d·T of causal attention.</summary>
public sealed class TrainingFlopsTests
{
    private static readonly LlamaConfig Config = new() { HiddenSize = 64, IntermediateSize = 96, NumHiddenLayers = 3, NumAttentionHeads = 4, VocabSize = 100 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Counts_every_matrix_once_and_no_lookup(bool tied)
    {
        LlamaConfig config = Config with { TieWordEmbeddings = tied };
        const int T = 128;
        long d = config.HiddenSize, f = config.IntermediateSize, l = config.NumHiddenLayers, v = config.VocabSize;
        // Per block: Q, K, V, O (d x d each, multi-head) and gate, up, down (d x f each); then the LM head (tied or not, one product).
        long matrices = (l * ((4 * d * d) + (3 * d * f))) + (v * d);
        Assert.Equal((6.0 * matrices) + (6.0 * l * d * T), TrainingFlops.PerToken(config, T));
    }

    [Fact]
    public void Grouped_query_attention_has_smaller_key_and_value_matrices()
    {
        LlamaConfig gqa = Config with { NumKeyValueHeads = 2 };
        long d = Config.HiddenSize, kv = gqa.KvWidth, l = Config.NumHiddenLayers;
        double saved = 6.0 * l * 2 * d * (d - kv);
        Assert.Equal(TrainingFlops.PerToken(Config, 32) - saved, TrainingFlops.PerToken(gqa, 32), 6);
    }

    [Fact]
    public void Utilization_is_the_share_of_the_peak_of_every_device_and_unknown_without_a_peak()
    {
        Assert.Equal(0.25, TrainingFlops.Utilization(250, 1000));
        Assert.Equal(0.125, TrainingFlops.Utilization(250, 1000, devices: 2));
        Assert.Null(TrainingFlops.Utilization(250, null));
        Assert.Null(TrainingFlops.Utilization(250, 0));
    }

    [Fact]
    public void The_cpu_backend_states_its_measured_sgemm_rate_as_its_peak()
    {
        using var kernels = new CpuKernels(new ManagedGemm());
        double? peak = kernels.PeakFlops;
        Assert.NotNull(peak);
        Assert.True(peak > 0 && double.IsFinite(peak.Value), $"peak {peak}");
        Assert.Equal(peak, kernels.PeakFlops); // measured once
    }
}
