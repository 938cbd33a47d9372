using JpegLm.Cuda.Kernels;
using JpegLm.Engine.Kernels;

namespace JpegLm.Cuda.Checks;

/// <summary>One compared output of one kernel.</summary>
/// <param name="Operation">The kernel and its shape, e.g. <c>AttentionBackward gqa B2 T100</c>.</param>
/// <param name="Output">Which output (e.g. <c>keyGrad</c>).</param>
/// <param name="RelativeError">‖candidate − reference‖ / ‖reference‖ (NaN when the candidate holds a NaN).</param>
/// <param name="Tolerance">The largest norm error that passes.</param>
/// <param name="Deterministic">Whether a second candidate run gave the same bits.</param>
/// <param name="MaxAbsoluteError">The largest |candidate − reference| of one element.</param>
/// <param name="MaxElementError">
/// The largest element error relative to the element's own magnitude or, when that is smaller, the RMS of the
/// reference tensor (so elements near zero are not judged by their own tiny size): max |a − e| / max(|e|, rms).
/// </param>
/// <param name="ElementTolerance">The largest element error that passes.</param>
public sealed record ParityResult(string Operation, string Output, double RelativeError, double Tolerance, bool Deterministic,
    double MaxAbsoluteError = 0, double MaxElementError = 0, double ElementTolerance = double.PositiveInfinity)
{
    /// <summary>Passed: finite, within both tolerances and bit-identical on the repeat run.</summary>
    public bool Passed => !double.IsNaN(RelativeError) && RelativeError <= Tolerance && !(MaxElementError > ElementTolerance) && Deterministic;
}

/// <summary>The tolerances of a parity run: on the norm error and on the worst element (see <see cref="ParityResult"/>).</summary>
/// <param name="Norm">Largest ‖a − e‖ / ‖e‖.</param>
/// <param name="Element">Largest max |a − e| / max(|e|, rms(e)).</param>
public readonly record struct ParityTolerance(double Norm, double Element)
{
    /// <summary>
    /// The documented tolerances of the CUDA backend against the CPU engine: float32 agrees to rounding of a
    /// different summation order; bfloat16 rounds GEMM operands to 8 significant bits.
    /// </summary>
    public static ParityTolerance For(CudaPrecision precision)
        => precision == CudaPrecision.Float32 ? new ParityTolerance(1e-5, 2e-4) : new ParityTolerance(2e-2, 1.5e-1);
}

/// <summary>
/// Runs every <see cref="IKernels"/> operation on a candidate backend (the GPU) and a reference backend (the
/// CPU) with the same fresh random inputs and compares each output by relative error. Outputs that a kernel
/// overwrites are filled with NaN first, so an element the kernel never writes fails; outputs it accumulates
/// into start from the same random values on both sides, so the "adds, does not overwrite" contract is
/// checked too. Every case also runs twice on the candidate, and the two results must be bit-identical.
/// </summary>
public sealed class KernelParity
{
    private readonly IKernels _candidate;
    private readonly IKernels _reference;
    private readonly ParityTolerance _tolerance;
    private readonly Random _random;
    private readonly List<ParityResult> _results = [];

    /// <summary>
    /// Prepares a comparison of <paramref name="candidate"/> against <paramref name="reference"/> with a norm
    /// tolerance (elements may be off by 20× that, relative to max(|e|, rms)).
    /// </summary>
    public KernelParity(IKernels candidate, IKernels reference, double tolerance, int seed = 1234)
        : this(candidate, reference, new ParityTolerance(tolerance, 20 * tolerance), seed)
    {
    }

    /// <summary>
    /// Prepares a comparison. Every input comes from <paramref name="seed"/> in case order, so a case is
    /// replayed exactly by running again with the same seed (and that case alone: see <see cref="RunAll"/>).
    /// </summary>
    public KernelParity(IKernels candidate, IKernels reference, ParityTolerance tolerance, int seed)
    {
        _candidate = candidate ?? throw new ArgumentNullException(nameof(candidate));
        _reference = reference ?? throw new ArgumentNullException(nameof(reference));
        _tolerance = tolerance;
        Seed = seed;
        _random = new Random(seed);
    }

    /// <summary>The seed of the inputs (log it: the same seed reproduces every case).</summary>
    public int Seed { get; }

    /// <summary>
    /// Runs every case (or, with <paramref name="only"/>, the cases whose name contains it; the inputs of every
    /// case are still drawn, so they are the same as in a full run) and returns one result per compared output.
    /// <paramref name="starting"/> is told each case's name before it runs, so a fault can be pinned to it.
    /// </summary>
    public IReadOnlyList<ParityResult> RunAll(Action<ParityResult>? progress = null, string? only = null, Action<string>? starting = null)
    {
        foreach ((string name, Action<Case> body) in Cases())
        {
            if (only == null || name.Contains(only, StringComparison.Ordinal))
            {
                starting?.Invoke(name);
                Compare(name, body, progress);
            }
        }

        return _results;
    }

    /// <summary>The cases: each allocates its tensors through a <see cref="Case"/> and runs one operation.</summary>
    private IEnumerable<(string, Action<Case>)> Cases()
    {
        const int V = 300, C = 96;
        int[] tokens = Tokens(74, V);
        float[] table = Floats(V * C), embGrad = Floats(74 * C), tableGradStart = Floats(V * C);
        yield return ("EmbeddingForward N74 C96", c => c.Out("output", 74 * C, o => c.K.EmbeddingForward(o, c.Ids(tokens), c.In(table), 74, C)));
        yield return ("EmbeddingBackward N74 C96", c => c.Acc("tableGrad", tableGradStart, g => c.K.EmbeddingBackward(g, c.In(embGrad), c.Ids(tokens), 74, C)));

        const int N = 75, IC = 96, OC = 130;
        float[] x = Floats(N * IC), w = Floats(OC * IC), dy = Floats(N * OC), dxStart = Floats(N * IC), dwStart = Floats(OC * IC);
        yield return ("MatMulForward 75x96->130", c => c.Out("output", N * OC, o => c.K.MatMulForward(o, c.In(x), c.In(w), N, IC, OC)));
        yield return ("MatMulBackward 75x96->130", c =>
        {
            Tensor dx = c.Start(dxStart), dw = c.Start(dwStart);
            c.K.MatMulBackward(dx, dw, c.In(dy), c.In(x), c.In(w), N, IC, OC);
            c.Result("inputGrad", dx);
            c.Result("weightGrad", dw);
        });

        const int R = 600, RC = 96;
        float[] rx = Floats(R * RC), rw = Floats(RC, 1f, 0.2f), rdy = Floats(R * RC), rdxStart = Floats(R * RC), rdwStart = Floats(RC);
        yield return ("RmsNormForward 600x96", c =>
        {
            Tensor o = c.Poisoned(R * RC), r = c.Poisoned(R);
            c.K.RmsNormForward(o, r, c.In(rx), c.In(rw), R, RC, 1e-5f);
            c.Result("output", o);
            c.Result("rstd", r);
        });
        yield return ("RmsNormBackward 600x96", c =>
        {
            Tensor o = c.Poisoned(R * RC), r = c.Poisoned(R);
            c.K.RmsNormForward(o, r, c.In(rx), c.In(rw), R, RC, 1e-5f);
            Tensor dx = c.Start(rdxStart), dw = c.Start(rdwStart);
            c.K.RmsNormBackward(dx, dw, c.In(rdy), c.In(rx), c.In(rw), r, R, RC);
            c.Result("inputGrad", dx);
            c.Result("weightGrad", dw);
        });

        const int P = 10007;
        float[] pa = Floats(P, 0f, 3f), pb = Floats(P, 0f, 3f), pd = Floats(P), pgStart = Floats(P), puStart = Floats(P);
        yield return ("Add 10007", c => c.Out("output", P, o => c.K.Add(o, c.In(pa), c.In(pb), P)));
        yield return ("SwiGluForward 10007", c => c.Out("output", P, o => c.K.SwiGluForward(o, c.In(pa), c.In(pb), P)));
        yield return ("SwiGluBackward 10007", c =>
        {
            Tensor dg = c.Start(pgStart), du = c.Start(puStart);
            c.K.SwiGluBackward(dg, du, c.In(pd), c.In(pa), c.In(pb), P);
            c.Result("gateGrad", dg);
            c.Result("upGrad", du);
        });

        float[] rope = Floats(2 * 37 * 3 * 64);
        yield return ("RotaryForward B2 T37 H3 D64 +5", c => c.InPlace("x", rope, t => c.K.RotaryForward(t, 2, 37, 3, 64, 5, 10000f)));
        yield return ("RotaryBackward B2 T37 H3 D64 +5", c => c.InPlace("xGrad", rope, t => c.K.RotaryBackward(t, 2, 37, 3, 64, 5, 10000f)));
        float[] longRope = Floats(4100 * 2 * 128);
        yield return ("Rotary T4100 H2 D128 theta5e5", c => c.InPlace("x", longRope, t => c.K.RotaryForward(t, 1, 4100, 2, 128, 0, 500000f)));

        foreach (AttentionShape shape in new[]
        {
            AttentionShape.Training(2, 100, 4, 2, 64),
            AttentionShape.Training(1, 70, 2, 1, 128),
            AttentionShape.Training(1, 200, 2, 2, 32),
            new AttentionShape(2, 3, 70, 96, 4, 4, 64),   // KV cache: 3 new queries over 70 of 96 slots
            new AttentionShape(1, 1, 33, 40, 4, 1, 64),   // one decode step, multi-query
        })
        {
            long qn = (long)shape.Batch * shape.QueryLength * shape.Heads * shape.HeadDim;
            long kn = (long)shape.Batch * shape.KeyCapacity * shape.KvHeads * shape.HeadDim;
            long ln = (long)shape.Batch * shape.Heads * shape.QueryLength;
            float[] q = Floats(qn), k = Floats(kn), v = Floats(kn), dO = Floats(qn), dqStart = Floats(qn), dkStart = Floats(kn), dvStart = Floats(kn);
            string label = $"B{shape.Batch} Tq{shape.QueryLength} Tk{shape.KeyLength}/{shape.KeyCapacity} H{shape.Heads}/{shape.KvHeads} D{shape.HeadDim}";
            yield return ($"AttentionForward {label}", c =>
            {
                Tensor o = c.Poisoned(qn), lse = c.Poisoned(ln);
                c.K.AttentionForward(o, lse, c.In(q), c.In(k), c.In(v), shape);
                c.Result("output", o);
                c.Result("logSumExp", lse);
            });
            yield return ($"AttentionBackward {label}", c =>
            {
                Tensor o = c.Poisoned(qn), lse = c.Poisoned(ln);
                Tensor tq = c.In(q), tk = c.In(k), tv = c.In(v);
                c.K.AttentionForward(o, lse, tq, tk, tv, shape);
                Tensor dq = c.Start(dqStart), dk = c.Start(dkStart), dv = c.Start(dvStart);
                c.K.AttentionBackward(dq, dk, dv, c.In(dO), o, lse, tq, tk, tv, shape);
                c.Result("queryGrad", dq);
                c.Result("keyGrad", dk);
                c.Result("valueGrad", dv);
            });
        }

        const int CN = 37, CV = 1000;
        float[] logits = Floats(CN * CV, 0f, 4f);
        int[] targets = Tokens(CN, CV);
        targets[3] = -1;
        targets[20] = -1;
        yield return ("CrossEntropyForward 37x1000", c => c.Out("losses", CN, l => c.K.CrossEntropyForward(l, c.In(logits), c.Ids(targets), CN, CV)));
        yield return ("CrossEntropyForwardBackward 37x1000", c =>
        {
            Tensor l = c.Poisoned(CN), z = c.In(logits);
            c.K.CrossEntropyForwardBackward(l, z, c.Ids(targets), 1f / 35, CN, CV);
            c.Result("losses", l);
            c.Result("logitsGrad", z);
        });

        float[] big = Floats(100_003);
        yield return ("SumOfSquares 100003", c => c.Out("result", 1, r => c.K.SumOfSquares(r, c.In(big))));

        float[] p = Floats(P), g = Floats(P), m = Floats(P, 0f, 0.1f), v2 = Floats(P, 0.5f, 0.4f);
        yield return ("AdamW 10007 step 3", c =>
        {
            Tensor tp = c.Start(p), tm = c.Start(m), tv = c.Start(v2);
            c.K.AdamW(tp, c.In(g), tm, tv, new AdamWStep(1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 3, 0.7f));
            c.Result("parameters", tp);
            c.Result("firstMoment", tm);
            c.Result("secondMoment", tv);
        });

        float[] src = Floats(5 * 40), dst = Floats(5 * 50);
        yield return ("Copy2D 5 rows of 24", c =>
        {
            Tensor d = c.Start(dst);
            c.K.Copy2D(d, 50, c.In(src), 40, 5, 24);
            c.Result("destination", d);
        });
    }

    private void Compare(string name, Action<Case> body, Action<ParityResult>? progress)
    {
        Dictionary<string, float[]> reference = Case.Run(_reference, body);
        Dictionary<string, float[]> first = Case.Run(_candidate, body);
        Dictionary<string, float[]> second = Case.Run(_candidate, body);
        foreach ((string output, float[] expected) in reference)
        {
            float[] actual = first[output];
            bool same = BitEqual(actual, second[output]);
            (double maxAbs, double maxElement) = ElementErrors(actual, expected);
            var result = new ParityResult(name, output, RelativeError(actual, expected), _tolerance.Norm, same, maxAbs, maxElement, _tolerance.Element);
            _results.Add(result);
            progress?.Invoke(result);
        }
    }

    /// <summary>‖a − b‖ / ‖b‖ in float64; NaN if <paramref name="actual"/> holds a NaN or an infinity.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            return double.NaN;
        }

        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i]))
            {
                return double.NaN;
            }

            double d = (double)actual[i] - expected[i];
            diff += d * d;
            norm += (double)expected[i] * expected[i];
        }

        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }

    /// <summary>
    /// The largest |a − e| and the largest |a − e| / max(|e|, rms(e)) over the elements (NaN when a value is not
    /// finite or the lengths differ).
    /// </summary>
    public static (double MaxAbsolute, double MaxRelative) ElementErrors(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            return (double.NaN, double.NaN);
        }

        double sum = 0;
        foreach (float e in expected)
        {
            sum += (double)e * e;
        }

        double rms = expected.Length == 0 ? 0 : Math.Sqrt(sum / expected.Length);
        double maxAbs = 0, maxRel = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i]))
            {
                return (double.NaN, double.NaN);
            }

            double d = Math.Abs((double)actual[i] - expected[i]);
            double scale = Math.Max(Math.Abs((double)expected[i]), rms);
            maxAbs = Math.Max(maxAbs, d);
            maxRel = Math.Max(maxRel, scale == 0 ? d : d / scale);
        }

        return (maxAbs, maxRel);
    }

    private static bool BitEqual(float[] a, float[] b)
        => a.Length == b.Length && a.AsSpan().SequenceEqual(b);

    private float[] Floats(long n, float mean = 0f, float spread = 1f)
    {
        float[] data = new float[n];
        for (long i = 0; i < n; i++)
        {
            data[i] = mean + spread * (float)(_random.NextDouble() * 2 - 1);
        }

        return data;
    }

    private int[] Tokens(int n, int vocab)
    {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++)
        {
            // A small range repeats ids, so the embedding backward sums several rows into one vocabulary row.
            ids[i] = i % 3 == 0 ? _random.Next(8) : _random.Next(vocab);
        }

        return ids;
    }

    /// <summary>One run of a case on one backend: allocates, uploads, poisons, collects the outputs, frees.</summary>
    private sealed class Case : IDisposable
    {
        private readonly List<ITensorBuffer> _buffers = [];

        private Case(IKernels kernels) => K = kernels;

        public IKernels K { get; }

        public Dictionary<string, float[]> Outputs { get; } = new(StringComparer.Ordinal);

        public static Dictionary<string, float[]> Run(IKernels kernels, Action<Case> body)
        {
            using var c = new Case(kernels);
            body(c);
            return c.Outputs;
        }

        public Tensor In(float[] data)
        {
            Tensor t = New(data.Length);
            K.Upload(data, t);
            return t;
        }

        public Tensor Start(float[] data) => In(data);

        public TokenTensor Ids(int[] ids)
        {
            TokenTensor t = New(ids.Length).AsTokens();
            K.Upload(ids, t);
            return t;
        }

        public Tensor Poisoned(long n)
        {
            Tensor t = New(n);
            float[] nan = new float[n];
            Array.Fill(nan, float.NaN);
            K.Upload(nan, t);
            return t;
        }

        public void Out(string name, long n, Action<Tensor> run)
        {
            Tensor t = Poisoned(n);
            run(t);
            Result(name, t);
        }

        public void Acc(string name, float[] start, Action<Tensor> run)
        {
            Tensor t = Start(start);
            run(t);
            Result(name, t);
        }

        public void InPlace(string name, float[] data, Action<Tensor> run) => Acc(name, data, run);

        public void Result(string name, Tensor t)
        {
            float[] host = new float[t.Length];
            K.Download(t, host);
            Outputs[name] = host;
        }

        public void Dispose()
        {
            foreach (ITensorBuffer b in _buffers)
            {
                b.Dispose();
            }
        }

        private Tensor New(long n)
        {
            ITensorBuffer b = K.Allocate(n);
            _buffers.Add(b);
            return Tensor.Of(b);
        }
    }
}
