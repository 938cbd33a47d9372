using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Tests.Jpeg;

public class UpsamplerVectorTests
{
    [SkippableFact]
    public unsafe void Vector_steps_and_their_overlapping_tails_equal_the_filter_formulas_for_every_width()
    {
        Skip.IfNot(UpsamplerVector.IsSupported, "SSE4.1 not available");
        var random = new Random(11);
        for (int n = 2; n <= 300; n++)
        {
            byte[] near = new byte[n], far = new byte[n];
            random.NextBytes(near);
            random.NextBytes(far);
            short[] sums = new short[n];
            byte[] dst = new byte[2 * n];
            int done;
            fixed (byte* pn = near, pf = far, pd = dst)
            fixed (short* ps = sums)
            {
                UpsamplerVector.ColumnSums(pn, pf, ps, n);
                done = UpsamplerVector.H2V2Interior(ps, pd, n);
            }

            for (int i = 0; i < n; i++)
            {
                Assert.Equal((near[i] * 3) + far[i], sums[i]);
            }

            Assert.InRange(done, 1, Math.Max(1, n - 1));
            for (int i = 1; i < done; i++)
            {
                Assert.Equal((byte)(((sums[i] * 3) + sums[i - 1] + 8) >> 4), dst[2 * i]);
                Assert.Equal((byte)(((sums[i] * 3) + sums[i + 1] + 7) >> 4), dst[(2 * i) + 1]);
            }
        }
    }
}
