using System.Diagnostics;
using JpegLm.Codec.Avc;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Avc;

/// <summary>Broken streams must end in <see cref="AvcFormatException"/> (or concealment), never another exception or a hang.</summary>
public class AvcBadInputTests
{
    // Each fuzz case must be rejected or decoded within this. The streams are a few KB and decode in
    // milliseconds; the bound is far above that because a starved test process on a busy build machine has
    // been seen to stall a case for over 30 s, and only a hang (or a pathological slowdown) should fail it.
    private static readonly TimeSpan CaseTimeLimit = TimeSpan.FromSeconds(120);

    private static string Stream(string file) => Path.Combine(AvcTestStreams.CommittedConformanceDir, file);

    private static int DecodeAll(byte[] data, AvcDecoderOptions? options = null)
    {
        int n = 0;
        foreach (var unused in new AvcDecoder(options ?? new AvcDecoderOptions()).Decode(new MemoryStream(data)))
        {
            n++;
        }

        return n;
    }

    [Fact]
    public async Task Random_bytes_give_no_frames_or_a_typed_error()
    {
        for (int i = 0; i < 50; i++)
        {
            int seed = 1234 + i;
            var rng = new Random(seed);
            byte[] data = new byte[rng.Next(1, 4000)];
            rng.NextBytes(data);
            if (i % 2 == 0)
            {
                // Put a start code in so the bytes are read as a NAL unit.
                data[0] = 0;
                data[1 % data.Length] = 0;
                data[2 % data.Length] = 1;
            }

            await RejectedOrDecodedInTime($"random bytes, seed {seed}", () => DecodeOrReject(data, new AvcDecoderOptions()));
        }
    }

    [Fact]
    public void Truncated_stream_is_reported_with_where_it_was_cut()
    {
        byte[] full = File.ReadAllBytes(Stream("SVA_BA2_D.264"));

        // Cuts inside the first start code, right after it, inside the SPS, inside slices, and 7 bytes before
        // the end (inside the last slice). A cut exactly between two pictures would leave a valid shorter stream.
        foreach (int cut in new[] { 3, 4, 10, 40, 500, 3000, full.Length - 7 })
        {
            byte[] data = full[..cut];
            Exception? error = Record.Exception(() => DecodeAll(data));
            if (error is not AvcFormatException e)
            {
                Assert.Fail($"cut at {cut}: {(error == null ? "decoded without reporting the truncation" : error.ToString())}");
                return;
            }

            Assert.True(e.ByteOffset >= 0 && e.ByteOffset <= cut, $"cut at {cut}: the error is placed at {e.ByteOffset}: {e.Message}");

            // Tolerant decoding conceals what it can, but must still report the damage.
            var tolerant = new AvcDecoder(new AvcDecoderOptions { Tolerant = true });
            try
            {
                foreach (var unused in tolerant.Decode(new MemoryStream(data)))
                {
                }

                Assert.True(tolerant.Errors.Count > 0, $"cut at {cut}: tolerant decoding reported nothing");
            }
            catch (AvcFormatException t)
            {
                Assert.True(t.ByteOffset >= 0 && t.ByteOffset <= cut, $"cut at {cut} (tolerant): the error is placed at {t.ByteOffset}: {t.Message}");
            }
        }
    }

    [Fact]
    public void Slice_before_any_parameter_set_names_the_missing_pps()
    {
        byte[] full = File.ReadAllBytes(Stream("SVA_BA2_D.264"));
        // Drop the SPS and PPS: keep from the first slice NAL unit on.
        int first = IndexOfNal(full, t => t is 1 or 5);
        var e = Assert.Throws<AvcFormatException>(() => DecodeAll(full[(first - 3)..]));
        Assert.Contains("missing PPS", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, e.Slice);
    }

    [Fact]
    public void Absurd_picture_size_is_refused_before_allocating()
    {
        // SPS: profile 66, level 30, id 0, log2_max_frame_num-4 = 0, poc type 2, 1 ref, no gaps,
        // width 1024 MBs, height 1024 MBs (16384 x 16384), frame_mbs_only.
        string bits = "01000010" + "00000000" + "00011110" + "1" + "1" + "011" + "010" + "0"
            + Ue(1023) + Ue(1023) + "1" + "1" + "0" + "0" + "1";
        byte[] sps = [0, 0, 0, 1, 0x67, .. Pack(bits)];
        var e = Assert.Throws<AvcFormatException>(() => DecodeAll(sps, new AvcDecoderOptions { MaxFrameMacroblocks = 8160 }));
        Assert.Contains("exceeds the limit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutated_streams_only_raise_typed_errors_and_tolerant_decoding_conceals()
    {
        string[] files = ["SVA_BA2_D.264", "SVA_FM1_E.264", "BASQP1_Sony_C.jsv", "MR1_BT_A.h264"];
        int typed = 0, concealed = 0;
        foreach (string f in files)
        {
            byte[] original = File.ReadAllBytes(Stream(f));
            for (int trial = 0; trial < 12; trial++)
            {
                int seed = 20261128 + trial;
                byte[] data = Mutate(original, seed, trial % 3);
                string testCase = $"{f} mutation {trial % 3}, seed {seed}";
                await RejectedOrDecodedInTime(testCase, () => typed += DecodeOrReject(data, new AvcDecoderOptions()) ? 0 : 1);
                await RejectedOrDecodedInTime(testCase + " (tolerant)", () =>
                {
                    var decoder = new AvcDecoder(new AvcDecoderOptions { Tolerant = true });
                    try
                    {
                        foreach (var unused in decoder.Decode(new MemoryStream(data)))
                        {
                        }

                        concealed += decoder.Errors.Count;
                    }
                    catch (AvcFormatException)
                    {
                        // Parameter-set damage stays fatal even when tolerant.
                    }
                });
            }
        }

        Assert.True(typed > 0, "no mutation was detected at all");
        Assert.True(concealed > 0, "tolerant decoding never concealed a slice");
    }

    [SkippableFact]
    public async Task Long_mutation_run_only_raises_typed_errors()
    {
        string? count = Environment.GetEnvironmentVariable("JPEGLM_AVC_FUZZ");
        Skip.If(count is null, "set JPEGLM_AVC_FUZZ=N to run N extra mutations per committed stream");
        int trials = int.Parse(count!, System.Globalization.CultureInfo.InvariantCulture);
        foreach (var s in AvcTestStreams.ReadTsv(AvcTestStreams.CommittedConformanceDir))
        {
            byte[] original = File.ReadAllBytes(s.File);
            for (int trial = 0; trial < trials; trial++)
            {
                int seed = 7 + trial;
                byte[] data = Mutate(original, seed, mode: 0);
                foreach (bool tolerant in new[] { false, true })
                {
                    await RejectedOrDecodedInTime($"{Path.GetFileName(s.File)} seed {seed}{(tolerant ? " (tolerant)" : "")}", () => DecodeOrReject(data, new AvcDecoderOptions { Tolerant = tolerant }));
                }
            }
        }
    }

    // Damages 1..5 bytes of a copy: mode 0 flips a bit, 1 writes a random byte, 2 writes a zero (which can
    // make or break start codes). The seed alone reproduces the case.
    private static byte[] Mutate(byte[] original, int seed, int mode)
    {
        var rng = new Random(seed);
        byte[] data = (byte[])original.Clone();
        for (int k = rng.Next(1, 6); k > 0; k--)
        {
            int pos = rng.Next(data.Length);
            data[pos] = mode switch
            {
                0 => (byte)(data[pos] ^ (1 << rng.Next(8))),
                1 => (byte)rng.Next(256),
                _ => 0,
            };
        }

        return data;
    }

    // True when the stream decoded, false when it was rejected with the typed error.
    private static bool DecodeOrReject(byte[] data, AvcDecoderOptions options)
    {
        try
        {
            DecodeAll(data, options);
            return true;
        }
        catch (AvcFormatException)
        {
            return false;
        }
    }

    // Runs one fuzz case on the thread pool and fails, naming the case, when it neither finishes within
    // CaseTimeLimit (a hang: the worker is abandoned so the run goes on) nor ends without an untyped exception.
    private static async Task RejectedOrDecodedInTime(string testCase, Action run)
    {
        var clock = Stopwatch.StartNew();
        Task work = Task.Run(run);
        Task first = await Task.WhenAny(work, Task.Delay(CaseTimeLimit));
        Assert.True(first == work, $"{testCase}: neither rejected nor decoded after {clock.Elapsed.TotalSeconds:F1} s (limit {CaseTimeLimit.TotalSeconds} s)");
        Assert.True(work.IsCompletedSuccessfully, $"{testCase}: {work.Exception?.InnerException}");
    }

    private static int IndexOfNal(byte[] d, Func<int, bool> typeWanted)
    {
        for (int i = 0; i + 3 < d.Length; i++)
        {
            if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1 && typeWanted(d[i + 3] & 31))
            {
                return i + 3;
            }
        }

        return -1;
    }

    private static string Ue(int v)
    {
        string bin = Convert.ToString(v + 1, 2);
        return new string('0', bin.Length - 1) + bin;
    }

    private static byte[] Pack(string bits)
    {
        var bytes = new byte[(bits.Length + 7) / 8];
        for (int i = 0; i < bits.Length; i++)
        {
            if (bits[i] == '1')
            {
                bytes[i / 8] |= (byte)(0x80 >> (i % 8));
            }
        }

        return bytes;
    }
}
