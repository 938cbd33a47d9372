namespace JpegLm.Engine.Tests;

/// <summary>Naive float64 versions of every op, written from the math (HF LlamaForCausalLM), for checks.</summary>
internal static class Reference
{
    public static double[] MatMul(double[] x, double[] w, int n, int ic, int oc)
    {
        double[] y = new double[n * oc];
        for (int r = 0; r < n; r++)
        {
            for (int o = 0; o < oc; o++)
            {
                double s = 0;
                for (int i = 0; i < ic; i++)
                {
                    s += x[r * ic + i] * w[o * ic + i];
                }

                y[r * oc + o] = s;
            }
        }

        return y;
    }

    public static double[] RmsNorm(double[] x, double[] w, int n, int c, double eps)
    {
        double[] y = new double[n * c];
        for (int r = 0; r < n; r++)
        {
            double ss = 0;
            for (int i = 0; i < c; i++)
            {
                ss += x[r * c + i] * x[r * c + i];
            }

            double rstd = 1 / Math.Sqrt(ss / c + eps);
            for (int i = 0; i < c; i++)
            {
                y[r * c + i] = x[r * c + i] * rstd * w[i];
            }
        }

        return y;
    }

    public static double[] Rotary(double[] x, int batch, int t, int heads, int d, int offset, double theta)
    {
        double[] y = (double[])x.Clone();
        int half = d / 2;
        for (int b = 0; b < batch; b++)
        {
            for (int s = 0; s < t; s++)
            {
                for (int h = 0; h < heads; h++)
                {
                    int o = ((b * t + s) * heads + h) * d;
                    for (int i = 0; i < half; i++)
                    {
                        double angle = (offset + s) * Math.Pow(theta, -2.0 * i / d);
                        double a = x[o + i], c = x[o + i + half];
                        y[o + i] = a * Math.Cos(angle) - c * Math.Sin(angle);
                        y[o + i + half] = c * Math.Cos(angle) + a * Math.Sin(angle);
                    }
                }
            }
        }

        return y;
    }

    /// <summary>Full-matrix causal softmax attention; q [B,Tq,H,D], k/v [B,cap,Hkv,D].</summary>
    public static double[] Attention(double[] q, double[] k, double[] v, int batch, int tq, int tk, int cap, int heads, int kvHeads, int d)
    {
        double[] o = new double[batch * tq * heads * d];
        double scale = 1 / Math.Sqrt(d);
        for (int b = 0; b < batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                int kvh = h / (heads / kvHeads);
                for (int i = 0; i < tq; i++)
                {
                    int pos = tk - tq + i;
                    double[] s = new double[pos + 1];
                    double max = double.NegativeInfinity;
                    for (int j = 0; j <= pos; j++)
                    {
                        double dot = 0;
                        for (int e = 0; e < d; e++)
                        {
                            dot += q[((b * tq + i) * heads + h) * d + e] * k[((b * cap + j) * kvHeads + kvh) * d + e];
                        }

                        s[j] = dot * scale;
                        max = Math.Max(max, s[j]);
                    }

                    double sum = 0;
                    for (int j = 0; j <= pos; j++)
                    {
                        s[j] = Math.Exp(s[j] - max);
                        sum += s[j];
                    }

                    for (int j = 0; j <= pos; j++)
                    {
                        for (int e = 0; e < d; e++)
                        {
                            o[((b * tq + i) * heads + h) * d + e] += s[j] / sum * v[((b * cap + j) * kvHeads + kvh) * d + e];
                        }
                    }
                }
            }
        }

        return o;
    }

    public static double[] SwiGlu(double[] g, double[] u)
    {
        double[] y = new double[g.Length];
        for (int i = 0; i < g.Length; i++)
        {
            y[i] = g[i] / (1 + Math.Exp(-g[i])) * u[i];
        }

        return y;
    }

    /// <summary>Per-row −log softmax(logits)[target] (0 for negative targets).</summary>
    public static double[] CrossEntropy(double[] logits, int[] targets, int v)
    {
        double[] l = new double[targets.Length];
        for (int r = 0; r < targets.Length; r++)
        {
            if (targets[r] < 0)
            {
                continue;
            }

            double max = double.NegativeInfinity;
            for (int i = 0; i < v; i++)
            {
                max = Math.Max(max, logits[r * v + i]);
            }

            double sum = 0;
            for (int i = 0; i < v; i++)
            {
                sum += Math.Exp(logits[r * v + i] - max);
            }

            l[r] = Math.Log(sum) + max - logits[r * v + targets[r]];
        }

        return l;
    }
}
