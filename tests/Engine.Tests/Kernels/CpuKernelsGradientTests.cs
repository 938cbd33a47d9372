using JpegLm.Engine.Kernels;
using static JpegLm.Engine.Tests.GradientCheck;

namespace JpegLm.Engine.Tests.Kernels;

/// <summary>
/// Every kernel's forward against a naive float64 reference, and its backward against float64 central
/// differences of L = Σ w ⊙ forward(x) with random w (so the upstream gradient is w).
/// </summary>
public class CpuKernelsGradientTests
{
    [Fact]
    public void MatMul_forward_and_backward_match_float64()
    {
        using var k = NewKernels();
        const int n = 5, ic = 7, oc = 3;
        float[] x = Random(n * ic, 1), w = Random(oc * ic, 2), dy = Random(n * oc, 3);
        Tensor tx = Put(k, x), tw = Put(k, w), ty = Put(k, new float[n * oc]);
        k.MatMulForward(ty, tx, tw, n, ic, oc);
        AssertClose(Reference.MatMul(D(x), D(w), n, ic, oc), Get(k, ty), 1e-4);

        float[] dx0 = Random(n * ic, 4);
        Tensor tdx = Put(k, dx0), tdw = Put(k, new float[oc * ic]);
        k.MatMulBackward(tdx, tdw, Put(k, dy), tx, tw, n, ic, oc);
        float[] dx = Get(k, tdx);
        for (int i = 0; i < dx.Length; i++)
        {
            dx[i] -= dx0[i]; // the kernel accumulates
        }

        AssertGradients(a => Dot(D(dy), Reference.MatMul(a[0], a[1], n, ic, oc)), [D(x), D(w)], [dx, Get(k, tdw)]);
    }

    [Fact]
    public void RmsNorm_forward_and_backward_match_float64()
    {
        using var k = NewKernels();
        const int n = 4, c = 9;
        const float eps = 1e-5f;
        float[] x = Random(n * c, 5), w = Random(c, 6), dy = Random(n * c, 7);
        Tensor tx = Put(k, x), tw = Put(k, w), ty = Put(k, new float[n * c]), rstd = Put(k, new float[n]);
        k.RmsNormForward(ty, rstd, tx, tw, n, c, eps);
        AssertClose(Reference.RmsNorm(D(x), D(w), n, c, eps), Get(k, ty), 1e-5);
        Tensor dx = Put(k, new float[n * c]), dw = Put(k, new float[c]);
        k.RmsNormBackward(dx, dw, Put(k, dy), tx, tw, rstd, n, c);
        AssertGradients(a => Dot(D(dy), Reference.RmsNorm(a[0], a[1], n, c, eps)), [D(x), D(w)], [Get(k, dx), Get(k, dw)]);
    }

    [Fact]
    public void Rotary_forward_and_backward_match_float64()
    {
        using var k = NewKernels();
        const int b = 2, t = 5, h = 3, d = 8, offset = 7;
        const float theta = 10000f;
        float[] x = Random(b * t * h * d, 8), dy = Random(b * t * h * d, 9);
        Tensor tx = Put(k, x);
        k.RotaryForward(tx, b, t, h, d, offset, theta);
        AssertClose(Reference.Rotary(D(x), b, t, h, d, offset, theta), Get(k, tx), 1e-4);
        Tensor tdy = Put(k, dy);
        k.RotaryBackward(tdy, b, t, h, d, offset, theta);
        AssertGradients(a => Dot(D(dy), Reference.Rotary(a[0], b, t, h, d, offset, theta)), [D(x)], [Get(k, tdy)]);
    }

    [Theory]
    [InlineData(2, 4, 4, 8, 6)]
    [InlineData(1, 4, 2, 8, 6)]
    [InlineData(1, 2, 1, 4, 6)]
    [InlineData(1, 2, 1, 4, 70)] // crosses a 64-position tile boundary
    public void Attention_forward_and_backward_match_float64(int batch, int heads, int kvHeads, int d, int t)
    {
        using var k = NewKernels();
        float[] q = Random(batch * t * heads * d, 10), kk = Random(batch * t * kvHeads * d, 11), v = Random(batch * t * kvHeads * d, 12);
        float[] dy = Random(q.Length, 13);
        var shape = AttentionShape.Training(batch, t, heads, kvHeads, d);
        Tensor tq = Put(k, q), tk = Put(k, kk), tv = Put(k, v), to = Put(k, new float[q.Length]), lse = Put(k, new float[batch * heads * t]);
        k.AttentionForward(to, lse, tq, tk, tv, shape);
        AssertClose(Reference.Attention(D(q), D(kk), D(v), batch, t, t, t, heads, kvHeads, d), Get(k, to), 1e-4);
        Tensor dq = Put(k, new float[q.Length]), dk = Put(k, new float[kk.Length]), dv = Put(k, new float[v.Length]);
        k.AttentionBackward(dq, dk, dv, Put(k, dy), to, lse, tq, tk, tv, shape);
        AssertGradients(a => Dot(D(dy), Reference.Attention(a[0], a[1], a[2], batch, t, t, t, heads, kvHeads, d)),
            [D(q), D(kk), D(v)], [Get(k, dq), Get(k, dk), Get(k, dv)]);
    }

    [Theory]
    [InlineData(3)] // decoding: row-wise path
    [InlineData(70)] // prefill after a prefix: tiled path with queries offset from the keys
    public void Attention_across_key_blocks_and_with_a_cache_matches_float64(int tq)
    {
        using var k = NewKernels();
        // 150 keys cross two tile boundaries; tq new queries read a cache of capacity 160.
        const int batch = 2, tk = 150, cap = 160, heads = 2, kvHeads = 1, d = 8;
        float[] q = Random(batch * tq * heads * d, 14), kk = Random(batch * cap * kvHeads * d, 15), v = Random(batch * cap * kvHeads * d, 16);
        var shape = new AttentionShape(batch, tq, tk, cap, heads, kvHeads, d);
        Tensor to = Put(k, new float[q.Length]);
        k.AttentionForward(to, Put(k, new float[batch * heads * tq]), Put(k, q), Put(k, kk), Put(k, v), shape);
        AssertClose(Reference.Attention(D(q), D(kk), D(v), batch, tq, tk, cap, heads, kvHeads, d), Get(k, to), 1e-4);
    }

    [Fact]
    public void SwiGlu_forward_and_backward_match_float64()
    {
        using var k = NewKernels();
        const int n = 40;
        float[] g = Random(n, 17, 2f), u = Random(n, 18), dy = Random(n, 19);
        Tensor tg = Put(k, g), tu = Put(k, u), ty = Put(k, new float[n]);
        k.SwiGluForward(ty, tg, tu, n);
        AssertClose(Reference.SwiGlu(D(g), D(u)), Get(k, ty), 1e-5);
        Tensor dg = Put(k, new float[n]), du = Put(k, new float[n]);
        k.SwiGluBackward(dg, du, Put(k, dy), tg, tu, n);
        AssertGradients(a => Dot(D(dy), Reference.SwiGlu(a[0], a[1])), [D(g), D(u)], [Get(k, dg), Get(k, du)]);
    }

    [Fact]
    public void CrossEntropy_losses_and_fused_gradient_match_float64()
    {
        using var k = NewKernels();
        const int n = 4, v = 11;
        const float scale = 0.37f;
        float[] z = Random(n * v, 20, 3f);
        int[] targets = [3, -1, 10, 0];
        Tensor tz = Put(k, z), losses = Put(k, new float[n]);
        k.CrossEntropyForward(losses, tz, Put(k, targets), n, v);
        AssertClose(Reference.CrossEntropy(D(z), targets, v), Get(k, losses), 1e-5);
        k.CrossEntropyForwardBackward(losses, tz, Put(k, targets), scale, n, v);
        AssertClose(Reference.CrossEntropy(D(z), targets, v), Get(k, losses), 1e-5);
        AssertGradients(a => scale * Reference.CrossEntropy(a[0], targets, v).Sum(), [D(z)], [Get(k, tz)]);
    }

    [Fact]
    public void Embedding_forward_and_backward_match_float64()
    {
        using var k = NewKernels();
        const int vocab = 6, c = 5;
        int[] ids = [2, 0, 2, 5];
        float[] table = Random(vocab * c, 21), dy = Random(ids.Length * c, 22);
        Tensor tt = Put(k, table), ty = Put(k, new float[ids.Length * c]);
        TokenTensor tids = Put(k, ids);
        k.EmbeddingForward(ty, tids, tt, ids.Length, c);
        double[] Lookup(double[] tab) => [.. ids.SelectMany(id => tab.Skip(id * c).Take(c))];
        AssertClose(Lookup(D(table)), Get(k, ty), 0);
        Tensor dt = Put(k, new float[vocab * c]);
        k.EmbeddingBackward(dt, Put(k, dy), tids, ids.Length, c);
        AssertGradients(a => Dot(D(dy), Lookup(a[0])), [D(table)], [Get(k, dt)]);
    }

    [Fact]
    public void Embedding_rejects_tokens_outside_the_vocabulary()
    {
        using var k = NewKernels();
        Tensor table = Put(k, new float[4 * 3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => k.EmbeddingForward(Put(k, new float[3]), Put(k, [4]), table, 1, 3));
    }

    [Fact]
    public void AdamW_and_sum_of_squares_match_the_formulas()
    {
        using var k = NewKernels();
        const int n = 100_000; // more than one chunk
        float[] p = Random(n, 23), g = Random(n, 24), m = Random(n, 25, 0.1f), v = [.. Random(n, 26, 0.1f).Select(x => x * x)];
        Tensor tp = Put(k, p), tg = Put(k, g), tm = Put(k, m), tv = Put(k, v), result = Put(k, new float[1]);
        k.SumOfSquares(result, tg);
        double expectedSquares = g.Sum(x => (double)x * x);
        Assert.True(Math.Abs(expectedSquares - Get(k, result)[0]) < 1e-6 * expectedSquares);
        var step = new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, 3, 0.5f);
        k.AdamW(tp, tg, tm, tv, step);
        float[] np = Get(k, tp);
        for (int i = 0; i < n; i += 997)
        {
            double gi = g[i] * 0.5, mi = 0.9 * m[i] + 0.1 * gi, vi = 0.95 * v[i] + 0.05 * gi * gi;
            double expected = p[i] - 1e-2 * (mi / (1 - Math.Pow(0.9, 3)) / (Math.Sqrt(vi / (1 - Math.Pow(0.95, 3))) + 1e-8) + 0.1 * p[i]);
            Assert.Equal(expected, np[i], 1e-5);
        }
    }
}
