using JpegLm.Engine.Model;
using JpegLm.Engine.Quality;

namespace JpegLm.Engine.Tests.Quality;

public class FeatureDistancesTests
{
    private static float[] Gaussian(int n, int d, ulong seed, Func<int, float> mean, Func<int, float> std)
    {
        var rng = new SplitMixRandom(seed);
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                x[(i * d) + j] = mean(j) + (std(j) * rng.NextGaussian());
            }
        }

        return x;
    }

    [Fact]
    public void Identical_sets_are_at_distance_zero()
    {
        float[] a = Gaussian(500, 8, 1, _ => 0, _ => 1);
        Assert.InRange(FeatureDistances.Frechet(a, 500, a, 500, 8), 0, 1e-6);
        // KD's unbiased estimate of two identical sets is slightly negative (the diagonal is left out on one side only).
        Assert.InRange(FeatureDistances.Kernel(a, 500, a, 500, 8), -0.05, 1e-9);
    }

    [Fact]
    public void Shifted_gaussians_give_the_closed_form()
    {
        // N(0, I) against N(mu, diag(s^2)): FD = |mu|^2 + sum (1 - s)^2.
        const int n = 20000, d = 4;
        float[] mu = [1f, -0.5f, 0f, 2f], s = [1f, 2f, 0.5f, 1f];
        float[] a = Gaussian(n, d, 2, _ => 0, _ => 1);
        float[] b = Gaussian(n, d, 3, j => mu[j], j => s[j]);
        double expected = mu.Sum(m => m * m) + s.Sum(x => (1 - x) * (1 - x));
        Assert.InRange(FeatureDistances.Frechet(a, n, b, n, d), expected * 0.97, expected * 1.03);
    }

    [Fact]
    public void Correlated_covariances_match_the_matrix_square_root_by_hand()
    {
        // Sigma_a = [[2,1],[1,2]] (eigenvalues 3 and 1), Sigma_b = I: tr((Sa Sb)^1/2) = sqrt 3 + 1,
        // so FD = 0 + 4 + 2 - 2 (sqrt 3 + 1) = 2 - 2 sqrt 3 + 4 - 2 = 4 - 2 sqrt 3.
        const int n = 40000;
        var rng = new SplitMixRandom(5);
        float[] a = new float[n * 2];
        for (int i = 0; i < n; i++)
        {
            float u = rng.NextGaussian(), v = rng.NextGaussian();
            a[2 * i] = (MathF.Sqrt(1.5f) * u) + (MathF.Sqrt(0.5f) * v); // var 2, cov 1 with the other
            a[(2 * i) + 1] = (MathF.Sqrt(1.5f) * u) - (MathF.Sqrt(0.5f) * v);
        }

        float[] b = Gaussian(n, 2, 6, _ => 0, _ => 1);
        double expected = 4 - (2 * Math.Sqrt(3));
        Assert.InRange(FeatureDistances.Frechet(a, n, b, n, 2), expected - 0.03, expected + 0.03);
    }

    [Fact]
    public void Kernel_distance_grows_with_the_shift_and_is_near_zero_for_two_draws_of_one_law()
    {
        float[] a = Gaussian(400, 6, 7, _ => 0, _ => 1);
        float[] same = Gaussian(400, 6, 8, _ => 0, _ => 1);
        float[] near = Gaussian(400, 6, 9, _ => 0.3f, _ => 1);
        float[] far = Gaussian(400, 6, 10, _ => 1f, _ => 1);
        double k0 = FeatureDistances.Kernel(a, 400, same, 400, 6);
        double k1 = FeatureDistances.Kernel(a, 400, near, 400, 6);
        double k2 = FeatureDistances.Kernel(a, 400, far, 400, 6);
        Assert.InRange(k0, -0.02, 0.02);
        Assert.True(k1 > k0 + 0.01 && k2 > 4 * k1, $"{k0} {k1} {k2}");
    }

    [Fact]
    public void Eigenvalues_of_a_known_matrix()
    {
        double[] m = [4, 1, 0, 1, 3, 1, 0, 1, 2];
        double[] e = FeatureDistances.SymmetricEigenvalues(m, 3);
        // The characteristic polynomial's roots: 3 - sqrt 3, 3, 3 + sqrt 3.
        Assert.Equal(3 - Math.Sqrt(3), e[0], 9);
        Assert.Equal(3, e[1], 9);
        Assert.Equal(3 + Math.Sqrt(3), e[2], 9);
    }

    [Fact]
    public void Nearest_distances_find_the_closest_row_and_can_skip_the_query_itself()
    {
        float[] refs = [0, 0, 3, 4, 10, 10];
        float[] queries = [3, 5, 0, 0];
        float[] d = FeatureDistances.NearestDistances(queries, 2, refs, 3, 2);
        Assert.Equal(1f, d[0], 4);
        Assert.Equal(0f, d[1], 4);
        float[] skipped = FeatureDistances.NearestDistances(queries, 2, refs, 3, 2, skipIdentical: true);
        Assert.Equal(5f, skipped[1], 4);
    }
}
