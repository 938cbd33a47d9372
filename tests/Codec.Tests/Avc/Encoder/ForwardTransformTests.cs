using JpegLm.Codec.Avc;
using JpegLm.Codec.Avc.Encoder;

namespace JpegLm.Codec.Tests.Avc.Encoder;

public class ForwardTransformTests
{
    [Fact]
    public void Quantized_residual_reconstructs_within_half_a_step_through_the_decoder_transform()
    {
        var rng = new Random(3);
        var residual = new int[16];
        var c = new int[16];
        for (int qp = 0; qp <= 51; qp += 3)
        {
            // Quantizer step size (8.5.12): 0.625 at QP 0, doubling every 6.
            double step = 0.625 * Math.Pow(2, qp / 6.0);
            double worst = 0;
            for (int n = 0; n < 200; n++)
            {
                for (int i = 0; i < 16; i++)
                {
                    residual[i] = rng.Next(-60, 61);
                    c[i] = residual[i];
                }

                ForwardTransform.Forward4x4(c);
                ForwardTransform.Quantize4x4(c, qp, intra: true, 0);
                InverseTransform.Dequantize(c, qp, false);
                var pred = new byte[16];
                Array.Fill(pred, (byte)128);
                InverseTransform.AddInverse4x4(c, pred, 0, 4);
                double err = 0;
                for (int i = 0; i < 16; i++)
                {
                    err += Math.Pow(pred[i] - 128 - residual[i], 2);
                }

                worst = Math.Max(worst, Math.Sqrt(err / 16));
            }

            // RMS error of a uniform quantizer with dead zone stays below about one step (plus rounding).
            Assert.True(worst <= step + 1, $"QP {qp}: RMS error {worst:F2} exceeds step {step:F2}");
        }
    }

    [Fact]
    public void A_flat_block_has_only_a_dc_coefficient()
    {
        var c = new int[16];
        Array.Fill(c, 7);
        ForwardTransform.Forward4x4(c);
        Assert.Equal(16 * 7, c[0]);
        Assert.All(c.Skip(1), v => Assert.Equal(0, v));
    }

    [Fact]
    public void Decimation_scores_isolated_ones_low_and_big_levels_high()
    {
        var raster = new int[16];
        Assert.Equal(0, ForwardTransform.DecimateScore(raster, 0));
        raster[Macroblock.ZigZag[0]] = 1; // a lone DC 1 with no zeros below it
        Assert.Equal(3, ForwardTransform.DecimateScore(raster, 0));
        raster[Macroblock.ZigZag[9]] = -1; // 8 zeros below it: free
        Assert.Equal(3, ForwardTransform.DecimateScore(raster, 0));
        raster[Macroblock.ZigZag[4]] = 2;
        Assert.Equal(9, ForwardTransform.DecimateScore(raster, 0));
    }
}
