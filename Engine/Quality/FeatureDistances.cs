using JpegLm.Engine.Kernels.Cpu;

namespace JpegLm.Engine.Quality;

/// <summary>
/// Distances between two sets of feature vectors (rows of <c>n × d</c> arrays), as FID and KID compute them
/// over Inception features — here over whatever features the caller supplies (the project's own classifier,
/// so the figures are "FD-classifier" and "KD-classifier", comparable only with each other and only at equal n).
/// </summary>
public static unsafe class FeatureDistances
{
    /// <summary>
    /// The Fréchet distance between Gaussians fitted to the two sets:
    /// <c>|μa − μb|² + tr(Σa) + tr(Σb) − 2·tr((Σa Σb)^½)</c>. The trace of the square root is the sum of the
    /// square roots of the eigenvalues of the symmetric <c>Σa^½ Σb Σa^½</c> (Jacobi rotations in double precision).
    /// Biased upwards at small n, like FID: compare only figures computed at the same sizes.
    /// </summary>
    public static double Frechet(ReadOnlySpan<float> a, int na, ReadOnlySpan<float> b, int nb, int d)
    {
        if (na < 2 || nb < 2 || a.Length != (long)na * d || b.Length != (long)nb * d)
        {
            throw new ArgumentException("Fréchet distance needs at least two vectors in each set, of the given width");
        }

        (double[] muA, double[] covA) = MeanAndCovariance(a, na, d);
        (double[] muB, double[] covB) = MeanAndCovariance(b, nb, d);
        double meanTerm = 0, trace = 0;
        for (int i = 0; i < d; i++)
        {
            meanTerm += (muA[i] - muB[i]) * (muA[i] - muB[i]);
            trace += covA[(i * d) + i] + covB[(i * d) + i];
        }

        double[] rootA = SymmetricSqrt(covA, d);
        double[] product = Multiply(Multiply(rootA, covB, d), rootA, d);
        Symmetrize(product, d);
        double[] eigen = SymmetricEigenvalues(product, d);
        double rootTrace = eigen.Sum(e => Math.Sqrt(Math.Max(0, e)));
        return Math.Max(0, meanTerm + trace - (2 * rootTrace));
    }

    /// <summary>
    /// The kernel distance (KID): the unbiased estimate of the squared maximum mean discrepancy with the cubic
    /// polynomial kernel <c>k(x, y) = (x·y / d + 1)³</c>. Unbiased at any n (it can come out slightly negative when
    /// the sets match); its expected value does not depend on n, which is why it sits beside every FD.
    /// </summary>
    public static double Kernel(ReadOnlySpan<float> a, int na, ReadOnlySpan<float> b, int nb, int d)
    {
        if (na < 2 || nb < 2 || a.Length != (long)na * d || b.Length != (long)nb * d)
        {
            throw new ArgumentException("kernel distance needs at least two vectors in each set, of the given width");
        }

        double kaa = KernelSum(a, na, a, na, d, excludeDiagonal: true) / ((double)na * (na - 1));
        double kbb = KernelSum(b, nb, b, nb, d, excludeDiagonal: true) / ((double)nb * (nb - 1));
        double kab = KernelSum(a, na, b, nb, d, excludeDiagonal: false) / ((double)na * nb);
        return kaa + kbb - (2 * kab);
    }

    /// <summary>
    /// For each of the <paramref name="nq"/> query rows, the Euclidean distance to its nearest reference row
    /// (the memorisation check: samples should be no closer to the training set than held-out images are).
    /// When <paramref name="skipIdentical"/>, a reference at distance 0 is ignored (a query that is itself in the set).
    /// </summary>
    public static float[] NearestDistances(ReadOnlySpan<float> queries, int nq, ReadOnlySpan<float> references, int nr, int d, bool skipIdentical = false)
    {
        if (queries.Length != (long)nq * d || references.Length != (long)nr * d || nr == 0)
        {
            throw new ArgumentException("nearest neighbours need rows of the given width and a non-empty reference set");
        }

        float[] refNorms = RowNorms(references, nr, d), qNorms = RowNorms(queries, nq, d);
        float[] best = new float[nq];
        Array.Fill(best, float.PositiveInfinity);
        const int Chunk = 2048;
        float[] dots = new float[(long)nq * Math.Min(Chunk, nr)];
        var gemm = new ManagedGemm();
        for (int start = 0; start < nr; start += Chunk)
        {
            int m = Math.Min(Chunk, nr - start);
            fixed (float* q = queries, r = references, c = dots)
            {
                gemm.Sgemm(false, true, nq, m, d, 1f, q, d, r + ((long)start * d), d, 0f, c, m);
            }

            for (int i = 0; i < nq; i++)
            {
                for (int j = 0; j < m; j++)
                {
                    float dist2 = qNorms[i] + refNorms[start + j] - (2 * dots[((long)i * m) + j]);
                    if (skipIdentical && dist2 <= 1e-3f * (qNorms[i] + 1))
                    {
                        continue;
                    }

                    best[i] = MathF.Min(best[i], MathF.Max(0, dist2));
                }
            }
        }

        for (int i = 0; i < nq; i++)
        {
            best[i] = MathF.Sqrt(best[i]);
        }

        return best;
    }

    /// <summary>Eigenvalues of a symmetric <paramref name="d"/> × <paramref name="d"/> matrix (cyclic Jacobi), ascending.</summary>
    public static double[] SymmetricEigenvalues(double[] matrix, int d)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        (double[] values, _) = Jacobi(matrix, d, wantVectors: false);
        Array.Sort(values);
        return values;
    }

    private static double KernelSum(ReadOnlySpan<float> a, int na, ReadOnlySpan<float> b, int nb, int d, bool excludeDiagonal)
    {
        float[] dots = new float[(long)na * nb];
        fixed (float* pa = a, pb = b, c = dots)
        {
            new ManagedGemm().Sgemm(false, true, na, nb, d, 1f, pa, d, pb, d, 0f, c, nb);
        }

        double sum = 0;
        for (int i = 0; i < na; i++)
        {
            for (int j = 0; j < nb; j++)
            {
                if (excludeDiagonal && i == j)
                {
                    continue;
                }

                double k = (dots[((long)i * nb) + j] / d) + 1.0;
                sum += k * k * k;
            }
        }

        return sum;
    }

    private static float[] RowNorms(ReadOnlySpan<float> rows, int n, int d)
    {
        float[] norms = new float[n];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            foreach (float v in rows.Slice(i * d, d))
            {
                s += v * v;
            }

            norms[i] = (float)s;
        }

        return norms;
    }

    private static (double[] Mean, double[] Covariance) MeanAndCovariance(ReadOnlySpan<float> x, int n, int d)
    {
        double[] mean = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                mean[j] += x[(i * d) + j];
            }
        }

        for (int j = 0; j < d; j++)
        {
            mean[j] /= n;
        }

        double[] cov = new double[d * d];
        double[] centred = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                centred[j] = x[(i * d) + j] - mean[j];
            }

            for (int r = 0; r < d; r++)
            {
                double cr = centred[r];
                if (cr == 0)
                {
                    continue;
                }

                for (int c = r; c < d; c++)
                {
                    cov[(r * d) + c] += cr * centred[c];
                }
            }
        }

        for (int r = 0; r < d; r++)
        {
            for (int c = r; c < d; c++)
            {
                double v = cov[(r * d) + c] / (n - 1);
                cov[(r * d) + c] = v;
                cov[(c * d) + r] = v;
            }
        }

        return (mean, cov);
    }

    private static double[] SymmetricSqrt(double[] matrix, int d)
    {
        (double[] values, double[] vectors) = Jacobi(matrix, d, wantVectors: true);
        double[] result = new double[d * d];
        for (int k = 0; k < d; k++)
        {
            double s = Math.Sqrt(Math.Max(0, values[k]));
            if (s == 0)
            {
                continue;
            }

            for (int r = 0; r < d; r++)
            {
                double vr = vectors[(r * d) + k] * s;
                for (int c = 0; c < d; c++)
                {
                    result[(r * d) + c] += vr * vectors[(c * d) + k];
                }
            }
        }

        return result;
    }

    private static double[] Multiply(double[] x, double[] y, int d)
    {
        double[] r = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int k = 0; k < d; k++)
            {
                double xik = x[(i * d) + k];
                for (int j = 0; j < d; j++)
                {
                    r[(i * d) + j] += xik * y[(k * d) + j];
                }
            }
        }

        return r;
    }

    private static void Symmetrize(double[] m, int d)
    {
        for (int r = 0; r < d; r++)
        {
            for (int c = r + 1; c < d; c++)
            {
                double v = 0.5 * (m[(r * d) + c] + m[(c * d) + r]);
                m[(r * d) + c] = v;
                m[(c * d) + r] = v;
            }
        }
    }

    /// <summary>Cyclic Jacobi eigenvalue iteration; vectors are the columns of the returned matrix.</summary>
    private static (double[] Values, double[] Vectors) Jacobi(double[] matrix, int d, bool wantVectors)
    {
        if (matrix.Length != d * d)
        {
            throw new ArgumentException($"expected a {d}x{d} matrix");
        }

        double[] a = (double[])matrix.Clone();
        double[] v = wantVectors ? new double[d * d] : [];
        if (wantVectors)
        {
            for (int i = 0; i < d; i++)
            {
                v[(i * d) + i] = 1;
            }
        }

        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, diag = 0;
            for (int p = 0; p < d; p++)
            {
                diag += a[(p * d) + p] * a[(p * d) + p];
                for (int q = p + 1; q < d; q++)
                {
                    off += a[(p * d) + q] * a[(p * d) + q];
                }
            }

            if (off <= 1e-30 * Math.Max(diag, 1e-300) || off == 0)
            {
                break;
            }

            for (int p = 0; p < d; p++)
            {
                for (int q = p + 1; q < d; q++)
                {
                    double apq = a[(p * d) + q];
                    if (Math.Abs(apq) < 1e-300)
                    {
                        continue;
                    }

                    double theta = (a[(q * d) + q] - a[(p * d) + p]) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                    if (theta == 0)
                    {
                        t = 1;
                    }

                    double c = 1 / Math.Sqrt((t * t) + 1), s = t * c;
                    for (int k = 0; k < d; k++)
                    {
                        double akp = a[(k * d) + p], akq = a[(k * d) + q];
                        a[(k * d) + p] = (c * akp) - (s * akq);
                        a[(k * d) + q] = (s * akp) + (c * akq);
                    }

                    for (int k = 0; k < d; k++)
                    {
                        double apk = a[(p * d) + k], aqk = a[(q * d) + k];
                        a[(p * d) + k] = (c * apk) - (s * aqk);
                        a[(q * d) + k] = (s * apk) + (c * aqk);
                    }

                    if (wantVectors)
                    {
                        for (int k = 0; k < d; k++)
                        {
                            double vkp = v[(k * d) + p], vkq = v[(k * d) + q];
                            v[(k * d) + p] = (c * vkp) - (s * vkq);
                            v[(k * d) + q] = (s * vkp) + (c * vkq);
                        }
                    }
                }
            }
        }

        double[] values = new double[d];
        for (int i = 0; i < d; i++)
        {
            values[i] = a[(i * d) + i];
        }

        return (values, v);
    }
}
