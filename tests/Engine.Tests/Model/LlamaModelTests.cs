using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;
using static JpegLm.Engine.Tests.GradientCheck;

namespace JpegLm.Engine.Tests.Model;

public class LlamaModelTests
{
    internal static LlamaConfig Tiny(bool tied = false, int kvHeads = 1) => new()
    {
        HiddenSize = 8, IntermediateSize = 12, NumHiddenLayers = 2, NumAttentionHeads = 2, NumKeyValueHeads = kvHeads,
        VocabSize = 11, MaxPositionEmbeddings = 16, TieWordEmbeddings = tied, RmsNormEps = 1e-5f, InitializerRange = 0.3f,
    };

    private static (int[] Tokens, int[] Targets) Batch(int batch, int t, int vocab, ulong seed)
    {
        var rng = new SplitMixRandom(seed);
        int[] tokens = new int[batch * t], targets = new int[batch * t];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = (int)rng.NextInt64(vocab);
            targets[i] = (int)rng.NextInt64(vocab);
        }

        return (tokens, targets);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    public void Logits_match_an_independent_float64_forward(bool tied, int kvHeads)
    {
        LlamaConfig cfg = Tiny(tied, kvHeads);
        using var model = new LlamaModel(cfg, NewKernels());
        model.InitializeWeights(7);
        (int[] tokens, _) = Batch(2, 5, cfg.VocabSize, 8);
        model.Forward(tokens, default, 2, 5);
        double[] expected = ReferenceLlama.Logits(cfg, D(Get(model.Kernels, model.Weights)), tokens, 2, 5);
        AssertClose(expected, Get(model.Kernels, model.Logits), 1e-4);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    public void Whole_model_gradient_matches_float64_finite_differences(bool tied, int kvHeads)
    {
        LlamaConfig cfg = Tiny(tied, kvHeads);
        using var model = new LlamaModel(cfg, NewKernels());
        model.InitializeWeights(9);
        const int batch = 2, t = 5;
        (int[] tokens, int[] targets) = Batch(batch, t, cfg.VocabSize, 10);
        targets[3] = -1;
        int counted = targets.Count(x => x >= 0);
        model.ZeroGradients();
        float loss = model.Forward(tokens, targets, batch, t, training: true, gradientScale: 1f / counted);
        model.Backward();
        double[] p = D(Get(model.Kernels, model.Weights));
        Assert.Equal(ReferenceLlama.MeanLoss(cfg, p, tokens, targets, batch, t), loss, 1e-5);
        float[] grads = Get(model.Kernels, model.Gradients);
        AssertGradients(a => ReferenceLlama.MeanLoss(cfg, a[0], tokens, targets, batch, t), [p], [grads], 5e-3, "model");
    }

    [Fact]
    public void A_tiny_model_overfits_one_sequence()
    {
        LlamaConfig cfg = Tiny() with { HiddenSize = 32, IntermediateSize = 64, NumAttentionHeads = 4, NumKeyValueHeads = 2, VocabSize = 32, InitializerRange = 0.05f };
        using var model = new LlamaModel(cfg, NewKernels());
        model.InitializeWeights(11);
        (int[] seq, _) = Batch(1, 17, cfg.VocabSize, 12);
        int[] tokens = seq[..16], targets = seq[1..];
        ITensorBuffer moments = model.Kernels.Allocate(2 * model.Layout.Length);
        Tensor m = Tensor.Of(moments).Slice(0, model.Layout.Length), v = Tensor.Of(moments).Slice(model.Layout.Length, model.Layout.Length);
        float loss = float.NaN;
        for (int step = 1; step <= 150; step++)
        {
            model.ZeroGradients();
            loss = model.Forward(tokens, targets, 1, 16, training: true, gradientScale: 1f / 16);
            model.Backward();
            model.Kernels.AdamW(model.Weights, model.Gradients, m, v, new AdamWStep(1e-2f, 0.9f, 0.99f, 1e-8f, 0f, step, 1f));
        }

        Assert.True(loss < 0.01f, $"loss after 150 steps: {loss}");
    }

    [Fact]
    public void Layout_uses_hugging_face_names_and_puts_norms_after_matrices()
    {
        var layout = new LlamaParameters(Tiny());
        Assert.Equal("model.embed_tokens.weight", layout.Tensors[0].Name);
        Assert.Equal([12, 8], layout.Tensors.Single(p => p.Name == "model.layers.1.mlp.gate_proj.weight").Shape);
        Assert.Equal([8, 12], layout.Tensors.Single(p => p.Name == "model.layers.1.mlp.down_proj.weight").Shape);
        Assert.Equal([4, 8], layout.Tensors.Single(p => p.Name == "model.layers.0.self_attn.k_proj.weight").Shape);
        Assert.All(layout.Tensors.Where(p => p.Shape.Length == 1), p => Assert.True(p.Offset >= layout.DecayedLength));
        Assert.All(layout.Tensors.Where(p => p.Shape.Length == 2), p => Assert.True(p.Offset < layout.DecayedLength));
        Assert.Equal(layout.Tensors.Sum(p => p.Length), layout.Length);
    }
}
