using System.Diagnostics;
using JpegLm.Codec.Jpeg;
using Xunit.Abstractions;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>Phase timings for optimization work; runs only with JPEGLM_DECODER_PROFILE=1 (not a speed assertion).</summary>
public class JpegDecoderProfileTests(ITestOutputHelper output)
{
    private static unsafe double TimeKernels(int count, out double interiorNs)
    {
        byte[] a = new byte[256], b = new byte[256], d = new byte[512];
        short[] sums = new short[256];
        var w = Stopwatch.StartNew();
        fixed (byte* pa = a, pb = b, pd = d)
        fixed (short* ps = sums)
        {
            for (int i = 0; i < count; i++)
            {
                UpsamplerVector.ColumnSums(pa, pb, ps, 129);
            }

            double sumsNs = w.Elapsed.TotalMilliseconds / count * 1e6;
            w.Restart();
            for (int i = 0; i < count; i++)
            {
                UpsamplerVector.H2V2Interior(ps, pd, 129);
            }

            interiorNs = w.Elapsed.TotalMilliseconds / count * 1e6;
            return sumsNs;
        }
    }

    [SkippableFact]
    public void Profile_decode_phases()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("JPEGLM_DECODER_PROFILE") == "1", "set JPEGLM_DECODER_PROFILE=1 to print decoder phase timings");
        byte[] jpeg = JpegGoldenFiles.Read("cj_q75.jpg");
        const int n = 400;
        for (int i = 0; i < 50; i++)
        {
            JpegDecoder.Decode(jpeg);
        }

        var w = Stopwatch.StartNew();
        for (int i = 0; i < n; i++)
        {
            JpegDecoder.Decode(jpeg);
        }

        double full = w.Elapsed.TotalMilliseconds / n;
        w.Restart();
        for (int i = 0; i < n; i++)
        {
            new JpegDecodingSession(new JpegDecoderOptions()).Run(jpeg);
        }

        double run = w.Elapsed.TotalMilliseconds / n;
        var session = new JpegDecodingSession(new JpegDecoderOptions());
        session.Run(jpeg);
        w.Restart();
        for (int i = 0; i < n; i++)
        {
            JpegDecoder.Assemble(session.Frame!, JpegColorSpace.YCbCr);
        }

        double assemble = w.Elapsed.TotalMilliseconds / n;
        var ups = new Upsampler(session.Frame!, session.Frame!.Components[1]);
        byte[] row = new byte[1024];
        w.Restart();
        for (int i = 0; i < n * 100; i++)
        {
            ups.Row(i % 131, row);
        }

        double upsRow = w.Elapsed.TotalMilliseconds / (n * 100) * 1e6;
        double sumsNs = TimeKernels(n * 100, out double interiorNs);
        output.WriteLine($"ColumnSums(129) {sumsNs:F0} ns, H2V2Interior(129) {interiorNs:F0} ns");
        byte[] rgb = new byte[3 * 257];
        w.Restart();
        for (int i = 0; i < n * 100; i++)
        {
            OutputColorConverter.YCbCrToRgb(row, row, row, rgb, 257);
        }

        double colorRow = w.Elapsed.TotalMilliseconds / (n * 100) * 1e6;
        output.WriteLine($"assemble {assemble:F3} ms, chroma row upsample {upsRow:F0} ns, colour row {colorRow:F0} ns");
        short[] block = new short[64];
        block[0] = 100;
        block[1] = -30;
        block[9] = 12;
        int[] quant = Enumerable.Repeat(7, 64).ToArray();
        byte[] plane = new byte[64 * 8];
        w.Restart();
        for (int i = 0; i < n * 1000; i++)
        {
            InverseDct.Transform(block, quant, plane, 64);
        }

        double idct = w.Elapsed.TotalMilliseconds / (n * 1000) * 1e6;
        output.WriteLine($"257x131 q75: full {full:F3} ms, entropy+idct {run:F3} ms, idct {idct:F1} ns/block");
    }
}
