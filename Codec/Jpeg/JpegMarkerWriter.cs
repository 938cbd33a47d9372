namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Writes the marker segments of T.81 Annex B in the order and grouping libjpeg uses (jcmarker.c):
/// one segment per DQT and per DHT table, DQT before SOF, DHT and DRI before SOS.
/// </summary>
internal static class JpegMarkerWriter
{
    /// <summary>JFIF APP0 (T.871): version 1.01, no units, 1:1 pixel aspect, no thumbnail.</summary>
    public static void WriteJfif(JpegOutputBuffer o)
    {
        o.WriteMarker(JpegMarkers.App0);
        o.WriteUInt16(16);
        o.Write("JFIF\0"u8);
        o.WriteByte(1);
        o.WriteByte(1);
        o.WriteByte(0);
        o.WriteUInt16(1);
        o.WriteUInt16(1);
        o.WriteByte(0);
        o.WriteByte(0);
    }

    /// <summary>DQT with one table; 16-bit precision only when an entry exceeds 255 (B.2.4.1).</summary>
    public static void WriteQuantTable(JpegOutputBuffer o, int id, ReadOnlySpan<ushort> natural)
    {
        bool wide = IsWide(natural);
        o.WriteMarker(JpegMarkers.Dqt);
        o.WriteUInt16(2 + 1 + (wide ? 128 : 64));
        o.WriteByte((byte)((wide ? 0x10 : 0) | id));
        ReadOnlySpan<byte> zigZag = JpegTables.ZigZag;
        for (int k = 0; k < 64; k++)
        {
            ushort v = natural[zigZag[k]];
            if (wide)
            {
                o.WriteUInt16(v);
            }
            else
            {
                o.WriteByte((byte)v);
            }
        }
    }

    /// <summary>Whether a table needs 16-bit DQT precision.</summary>
    public static bool IsWide(ReadOnlySpan<ushort> natural)
    {
        foreach (ushort v in natural)
        {
            if (v > 255)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// SOF0 (or SOF1 when a 16-bit quantization table is in use: libjpeg's rule). Components are
    /// numbered 1, 2, 3; luma uses quantization table 0, chroma table 1.
    /// </summary>
    public static void WriteFrameHeader(JpegOutputBuffer o, JpegFrameLayout layout, bool extended)
    {
        o.WriteMarker(extended ? JpegMarkers.Sof1 : JpegMarkers.Sof0);
        o.WriteUInt16(8 + (3 * layout.ComponentCount));
        o.WriteByte(8);
        o.WriteUInt16(layout.Height);
        o.WriteUInt16(layout.Width);
        o.WriteByte((byte)layout.ComponentCount);
        for (int c = 0; c < layout.ComponentCount; c++)
        {
            o.WriteByte((byte)(c + 1));
            o.WriteByte(c == 0 ? (byte)((layout.MaxH << 4) | layout.MaxV) : (byte)0x11);
            o.WriteByte(c == 0 ? (byte)0 : (byte)1);
        }
    }

    /// <summary>DHT with one table; <paramref name="ac"/> selects class 1.</summary>
    public static void WriteHuffmanTable(JpegOutputBuffer o, bool ac, int id, HuffmanTableSpec spec)
    {
        o.WriteMarker(JpegMarkers.Dht);
        o.WriteUInt16(2 + 1 + 16 + spec.Values.Length);
        o.WriteByte((byte)((ac ? 0x10 : 0) | id));
        o.Write(spec.Bits);
        o.Write(spec.Values);
    }

    /// <summary>DRI: restart interval in MCUs.</summary>
    public static void WriteRestartInterval(JpegOutputBuffer o, int interval)
    {
        o.WriteMarker(JpegMarkers.Dri);
        o.WriteUInt16(4);
        o.WriteUInt16(interval);
    }

    /// <summary>SOS for one interleaved scan of all components, full spectral range (baseline).</summary>
    public static void WriteScanHeader(JpegOutputBuffer o, int componentCount)
    {
        o.WriteMarker(JpegMarkers.Sos);
        o.WriteUInt16(6 + (2 * componentCount));
        o.WriteByte((byte)componentCount);
        for (int c = 0; c < componentCount; c++)
        {
            o.WriteByte((byte)(c + 1));
            o.WriteByte(c == 0 ? (byte)0x00 : (byte)0x11);
        }

        o.WriteByte(0);
        o.WriteByte(63);
        o.WriteByte(0);
    }
}
