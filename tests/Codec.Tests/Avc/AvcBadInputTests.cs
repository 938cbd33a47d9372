using JpegLm.Codec.Avc;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Avc;

/// <summary>Broken streams must end in <see cref="AvcFormatException"/> (or concealment), never another exception or a hang.</summary>
public class AvcBadInputTests
{
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
    public void Random_bytes_give_no_frames_or_a_typed_error()
    {
        var rng = new Random(1234);
        for (int i = 0; i < 50; i++)
        {
            byte[] data = new byte[rng.Next(1, 4000)];
            rng.NextBytes(data);
            if (i % 2 == 0)
            {
                // Put a start code in so the bytes are read as a NAL unit.
                data[0] = 0;
                data[1 % data.Length] = 0;
                data[2 % data.Length] = 1;
            }

            try
            {
                DecodeAll(data);
            }
            catch (AvcFormatException)
            {
            }
        }
    }

    [Fact]
    public void Truncated_stream_decodes_what_is_there_or_throws_typed()
    {
        byte[] full = File.ReadAllBytes(Stream("SVA_BA2_D.264"));
        foreach (int cut in new[] { 3, 10, 40, 500, 3000, full.Length - 7 })
        {
            try
            {
                DecodeAll(full[..cut]);
            }
            catch (AvcFormatException e)
            {
                Assert.True(e.Frame >= 0 || e.ByteOffset >= 0, e.Message);
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
    public void Mutated_streams_only_raise_typed_errors_and_tolerant_decoding_conceals()
    {
        string[] files = ["SVA_BA2_D.264", "SVA_FM1_E.264", "BASQP1_Sony_C.jsv", "MR1_BT_A.h264"];
        var rng = new Random(20261128);
        int typed = 0, concealed = 0;
        foreach (string f in files)
        {
            byte[] original = File.ReadAllBytes(Stream(f));
            for (int trial = 0; trial < 12; trial++)
            {
                byte[] data = (byte[])original.Clone();
                int flips = rng.Next(1, 6);
                for (int k = 0; k < flips; k++)
                {
                    int pos = rng.Next(data.Length);
                    data[pos] = (trial % 3) switch
                    {
                        0 => (byte)(data[pos] ^ (1 << rng.Next(8))),
                        1 => (byte)rng.Next(256),
                        _ => 0,
                    };
                }

                try
                {
                    DecodeAll(data);
                }
                catch (AvcFormatException)
                {
                    typed++;
                }

                try
                {
                    var decoder = new AvcDecoder(new AvcDecoderOptions { Tolerant = true });
                    foreach (var unused in decoder.Decode(new MemoryStream(data)))
                    {
                    }

                    concealed += decoder.Errors.Count;
                }
                catch (AvcFormatException)
                {
                    // Parameter-set damage stays fatal even when tolerant.
                }
            }
        }

        Assert.True(typed > 0, "no mutation was detected at all");
        Assert.True(concealed > 0, "tolerant decoding never concealed a slice");
    }

    [SkippableFact]
    public void Long_mutation_run_only_raises_typed_errors()
    {
        string? count = Environment.GetEnvironmentVariable("JPEGLM_AVC_FUZZ");
        Skip.If(count is null, "set JPEGLM_AVC_FUZZ=N to run N extra mutations per committed stream");
        var rng = new Random(7);
        foreach (var s in AvcTestStreams.ReadTsv(AvcTestStreams.CommittedConformanceDir))
        {
            byte[] original = File.ReadAllBytes(s.File);
            for (int trial = 0; trial < int.Parse(count!, System.Globalization.CultureInfo.InvariantCulture); trial++)
            {
                byte[] data = (byte[])original.Clone();
                for (int k = rng.Next(1, 8); k > 0; k--)
                {
                    data[rng.Next(data.Length)] ^= (byte)(1 << rng.Next(8));
                }

                foreach (bool tolerant in new[] { false, true })
                {
                    try
                    {
                        DecodeAll(data, new AvcDecoderOptions { Tolerant = tolerant });
                    }
                    catch (AvcFormatException)
                    {
                    }
                }
            }
        }
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
