using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Tests.Avc.Encoder;

public class RbspWriterTests
{
    [Fact]
    public void Exp_golomb_codes_round_trip_through_the_reader()
    {
        var rng = new Random(5);
        var w = new RbspWriter();
        var ue = new uint[2000];
        var se = new int[2000];
        for (int i = 0; i < ue.Length; i++)
        {
            ue[i] = i < 40 ? (uint)i : (uint)rng.Next(1 << rng.Next(1, 31));
            se[i] = i < 40 ? i - 20 : rng.Next(-(1 << 30), 1 << 30) >> rng.Next(0, 31);
            long before = w.BitLength;
            w.WriteUe(ue[i]);
            Assert.Equal(RbspWriter.UeLength(ue[i]), w.BitLength - before);
            before = w.BitLength;
            w.WriteSe(se[i]);
            Assert.Equal(RbspWriter.SeLength(se[i]), w.BitLength - before);
            w.WriteBits((uint)i & 0x1F, 5);
        }

        w.WriteTrailingBits();
        var r = new RbspReader(w.Payload);
        for (int i = 0; i < ue.Length; i++)
        {
            Assert.Equal(ue[i], r.ReadUe());
            Assert.Equal(se[i], r.ReadSe());
            Assert.Equal((uint)i & 0x1F, r.ReadBits(5));
        }

        Assert.True(r.TrailingBitsAreValid());
    }

    [Fact]
    public void Ue_lengths_follow_clause_9_1()
    {
        // codeNum 0 -> "1", 1..2 -> 3 bits, 3..6 -> 5 bits, 7 -> 7 bits.
        Assert.Equal([1, 3, 3, 5, 5, 5, 5, 7], Enumerable.Range(0, 8).Select(v => RbspWriter.UeLength((uint)v)));
        var w = new RbspWriter();
        w.WriteUe(3); // 00100
        w.WriteTe(0, 1); // 1
        w.WriteTe(1, 1); // 0
        w.WriteTrailingBits(); // the stop bit completes the byte
        Assert.Equal([0b00100101], w.Payload.ToArray());
    }

    [Fact]
    public void Nal_units_get_start_codes_and_emulation_prevention_that_the_reader_removes()
    {
        var rng = new Random(11);
        var w = new RbspWriter();
        var payloads = new List<byte[]>();
        using var stream = new MemoryStream();
        for (int n = 0; n < 50; n++)
        {
            // Mostly zeros and small bytes, so 00 00 0x sequences are frequent.
            var p = new byte[rng.Next(1, 300)];
            for (int i = 0; i < p.Length; i++)
            {
                p[i] = (byte)(rng.Next(4) == 0 ? rng.Next(256) : rng.Next(4));
            }

            p[^1] = 0x80; // an RBSP ends with its stop bit
            w.Clear();
            foreach (byte b in p)
            {
                w.WriteBits(b, 8);
            }

            w.WriteNalUnit(stream, 2, 1);
            payloads.Add(p);
        }

        // The only 00 00 0x (x <= 2) left in the byte stream are the 00 00 00 01 start codes.
        byte[] raw = stream.ToArray();
        int startCodes = 0;
        for (int i = 0; i + 2 < raw.Length; i++)
        {
            if (raw[i] == 0 && raw[i + 1] == 0 && raw[i + 2] <= 2)
            {
                Assert.True(raw[i + 2] == 0 && raw[i + 3] == 1, $"start-code emulation at byte {i}");
                startCodes++;
                i += 3;
            }
        }

        Assert.Equal(payloads.Count, startCodes);
        stream.Position = 0;
        var reader = new AnnexBReader(stream);
        foreach (byte[] p in payloads)
        {
            Assert.True(reader.TryRead(out ReadOnlySpan<byte> nal));
            Assert.Equal(0x41, nal[0]);
            Assert.Equal(p, nal[1..].ToArray());
        }

        Assert.False(reader.TryRead(out _));
    }
}
