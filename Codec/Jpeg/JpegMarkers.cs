namespace JpegLm.Codec.Jpeg;

/// <summary>Marker codes (the byte after 0xFF), T.81 Table B.1.</summary>
internal static class JpegMarkers
{
    public const byte Sof0 = 0xC0;
    public const byte Sof1 = 0xC1;
    public const byte Sof2 = 0xC2;
    public const byte Dht = 0xC4;
    public const byte Jpg = 0xC8;
    public const byte Dac = 0xCC;
    public const byte Rst0 = 0xD0;
    public const byte Rst7 = 0xD7;
    public const byte Soi = 0xD8;
    public const byte Eoi = 0xD9;
    public const byte Sos = 0xDA;
    public const byte Dqt = 0xDB;
    public const byte Dnl = 0xDC;
    public const byte Dri = 0xDD;
    public const byte App0 = 0xE0;
    public const byte App14 = 0xEE;
    public const byte Com = 0xFE;
    public const byte Tem = 0x01;

    /// <summary>True for the start-of-frame markers of every coding process (C0..CF except DHT, JPG, DAC).</summary>
    public static bool IsStartOfFrame(byte m) => m is >= 0xC0 and <= 0xCF and not (Dht or Jpg or Dac);

    /// <summary>
    /// The marker's name in T.81 Table B.1 (SOI, APP0, DQT, SOF0, DHT, DRI, SOS, RST3, EOI, …), or 0xFFnn for
    /// reserved codes: the one table behind error messages and <see cref="JpegSegment.Name"/>.
    /// </summary>
    public static string Name(byte m) => m switch
    {
        >= Rst0 and <= Rst7 => $"RST{m - Rst0}",
        Soi => "SOI",
        Eoi => "EOI",
        Sos => "SOS",
        Dqt => "DQT",
        Dht => "DHT",
        Dac => "DAC",
        Dri => "DRI",
        Dnl => "DNL",
        Jpg => "JPG",
        Tem => "TEM",
        Com => "COM",
        _ when IsStartOfFrame(m) => $"SOF{m - 0xC0}",
        >= 0xE0 and <= 0xEF => $"APP{m - 0xE0}",
        >= 0xF0 and <= 0xFD => $"JPG{m - 0xF0}",
        _ => $"0xFF{m:X2}",
    };

    /// <summary>
    /// Finds the next marker at or after <paramref name="position"/>: skips bytes that are not 0xFF
    /// (garbage, which libjpeg also skips with a warning), stuffed 0xFF00 pairs and fill bytes.
    /// Returns the offset of the 0xFF that introduces the marker, or −1 at the end of the data.
    /// </summary>
    public static int FindNext(ReadOnlySpan<byte> data, int position)
    {
        int p = position;

        // Common case first: a scan's entropy reader stops right at the marker (every MCU with restart 1).
        if ((uint)(p + 1) < (uint)data.Length && data[p] == 0xFF && data[p + 1] is not (0 or 0xFF))
        {
            return p;
        }

        while (true)
        {
            int i = p < data.Length ? data[p..].IndexOf((byte)0xFF) : -1;
            if (i < 0)
            {
                return -1;
            }

            p += i;
            while (p + 1 < data.Length && data[p + 1] == 0xFF)
            {
                p++;
            }

            if (p + 1 >= data.Length)
            {
                return -1;
            }

            if (data[p + 1] != 0)
            {
                return p;
            }

            p += 2;
        }
    }
}
