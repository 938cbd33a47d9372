using JpegLm.Engine.Model;

namespace JpegLm.Engine.Tests.Model;

/// <summary>An independent float64 Llama forward (HF LlamaForCausalLM semantics) over a flat parameter array.</summary>
internal static class ReferenceLlama
{
    public static double[] Logits(LlamaConfig cfg, double[] p, int[] tokens, int batch, int t)
    {
        var layout = new LlamaParameters(cfg);
        double[] W(string name)
        {
            Assert.True(layout.TryGet(name, out ParameterTensor pt));
            return p.AsSpan((int)pt.Offset, (int)pt.Length).ToArray();
        }

        int n = batch * t, c = cfg.HiddenSize, f = cfg.IntermediateSize, qw = cfg.QueryWidth, kw = cfg.KvWidth;
        double[] emb = W("model.embed_tokens.weight");
        double[] x = new double[n * c];
        for (int r = 0; r < n; r++)
        {
            Array.Copy(emb, tokens[r] * c, x, r * c, c);
        }

        for (int l = 0; l < cfg.NumHiddenLayers; l++)
        {
            string pre = $"model.layers.{l}.";
            double[] h = Reference.RmsNorm(x, W(pre + "input_layernorm.weight"), n, c, cfg.RmsNormEps);
            double[] q = Reference.Rotary(Reference.MatMul(h, W(pre + "self_attn.q_proj.weight"), n, c, qw), batch, t, cfg.NumAttentionHeads, cfg.HeadDim, 0, cfg.RopeTheta);
            double[] k = Reference.Rotary(Reference.MatMul(h, W(pre + "self_attn.k_proj.weight"), n, c, kw), batch, t, cfg.KvHeads, cfg.HeadDim, 0, cfg.RopeTheta);
            double[] v = Reference.MatMul(h, W(pre + "self_attn.v_proj.weight"), n, c, kw);
            double[] att = Reference.Attention(q, k, v, batch, t, t, t, cfg.NumAttentionHeads, cfg.KvHeads, cfg.HeadDim);
            double[] o = Reference.MatMul(att, W(pre + "self_attn.o_proj.weight"), n, qw, c);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] += o[i];
            }

            h = Reference.RmsNorm(x, W(pre + "post_attention_layernorm.weight"), n, c, cfg.RmsNormEps);
            double[] g = Reference.MatMul(h, W(pre + "mlp.gate_proj.weight"), n, c, f);
            double[] u = Reference.MatMul(h, W(pre + "mlp.up_proj.weight"), n, c, f);
            double[] d = Reference.MatMul(Reference.SwiGlu(g, u), W(pre + "mlp.down_proj.weight"), n, f, c);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] += d[i];
            }
        }

        double[] final = Reference.RmsNorm(x, W("model.norm.weight"), n, c, cfg.RmsNormEps);
        return Reference.MatMul(final, W("lm_head.weight"), n, c, cfg.VocabSize);
    }

    public static double MeanLoss(LlamaConfig cfg, double[] p, int[] tokens, int[] targets, int batch, int t)
    {
        double[] losses = Reference.CrossEntropy(Logits(cfg, p, tokens, batch, t), targets, cfg.VocabSize);
        return losses.Sum() / targets.Count(x => x >= 0);
    }
}
