namespace JpegLm.Codec.Jpeg;

/// <summary>A marker and, unless it stands alone, its segment (T.81 B.1.1.4).</summary>
internal readonly ref struct JpegMarkerSegment
{
    public JpegMarkerSegment(byte marker, int offset, int length, ReadOnlySpan<byte> body)
    {
        Marker = marker;
        Offset = offset;
        Length = length;
        Body = body;
    }

    /// <summary>The marker code (the byte after 0xFF).</summary>
    public byte Marker { get; }

    /// <summary>Offset of the 0xFF directly before the marker code (fill bytes before it are not part of the marker).</summary>
    public int Offset { get; }

    /// <summary>The segment's length field, which counts itself; 0 for a marker without a segment.</summary>
    public int Length { get; }

    /// <summary>The segment's parameters after the length field.</summary>
    public ReadOnlySpan<byte> Body { get; }

    /// <summary>Offset of the first byte of <see cref="Body"/>.</summary>
    public int BodyOffset => Offset + 4;
}

/// <summary>
/// Walks the markers of a JPEG stream (T.81 B.1.1) from just after its SOI: finds each marker (strictly at the
/// current position, or skipping garbage as a tolerant decoder does) and reads its segment's length and body.
/// The decoder, the scan checker's header parser and the stream summary all walk with it, so a segment that
/// runs past the data is the same <see cref="JpegFormatException"/>, at the same offset, everywhere.
/// </summary>
internal ref struct JpegMarkerWalker
{
    private readonly ReadOnlySpan<byte> _data;

    /// <summary>Starts a walk after the SOI marker <paramref name="data"/> must begin with.</summary>
    /// <param name="data">The whole stream.</param>
    /// <param name="what">What the stream is, for the error when it lacks SOI ("stream", "tables stream").</param>
    /// <exception cref="JpegFormatException">The data does not start with SOI.</exception>
    public JpegMarkerWalker(ReadOnlySpan<byte> data, string what = "stream")
    {
        if (data.Length < 2 || data[0] != 0xFF || data[1] != JpegMarkers.Soi)
        {
            throw new JpegFormatException($"{what} does not start with the SOI marker FFD8: not a JPEG", 0);
        }

        _data = data;
        Position = 2;
    }

    /// <summary>
    /// Where the walk goes on: just after the last marker or segment read, or wherever the caller moved it
    /// (past a scan's entropy-coded data).
    /// </summary>
    public int Position { get; set; }

    /// <summary>
    /// The marker that must start at <see cref="Position"/> (after optional fill bytes, B.1.1.2) with its segment.
    /// EOI comes back with no segment; any other marker without one (SOI, RSTn, TEM) is out of place between
    /// segments and raises an error naming <paramref name="context"/> ("before the scan", "between segments").
    /// </summary>
    /// <exception cref="JpegFormatException">No marker here, a misplaced marker, or a segment cut off by the end.</exception>
    public JpegMarkerSegment Next(string context)
    {
        int pos = Position;
        if (pos >= _data.Length || _data[pos] != 0xFF)
        {
            throw new JpegFormatException(
                pos >= _data.Length ? "expected a marker, found the end of the data (no EOI)" : $"expected a marker, found byte 0x{_data[pos]:X2}", pos);
        }

        while (pos < _data.Length && _data[pos] == 0xFF)
        {
            pos++; // fill bytes
        }

        if (pos >= _data.Length)
        {
            throw new JpegFormatException("stream ends inside a marker", pos);
        }

        int at = pos - 1;
        byte marker = _data[pos];
        if (marker == JpegMarkers.Eoi)
        {
            Position = at + 2;
            return new JpegMarkerSegment(marker, at, 0, default);
        }

        if (!HasSegment(marker))
        {
            throw new JpegFormatException($"unexpected {JpegMarkers.Name(marker)} {context}", at);
        }

        return ReadSegment(at);
    }

    /// <summary>
    /// Finds the next marker at or after <see cref="Position"/>, skipping anything else (see
    /// <see cref="JpegMarkers.FindNext"/>), and moves <see cref="Position"/> just past its code; the segment is
    /// not read. False when the data ends first.
    /// </summary>
    public bool TryFindMarker(out int offset, out byte marker)
    {
        offset = JpegMarkers.FindNext(_data, Position);
        if (offset < 0)
        {
            marker = 0;
            return false;
        }

        marker = _data[offset + 1];
        Position = offset + 2;
        return true;
    }

    /// <summary>Reads the segment of the marker whose 0xFF is at <paramref name="markerAt"/> and moves past it.</summary>
    /// <exception cref="JpegFormatException">The length field is missing, below 2, or runs past the end of the data.</exception>
    public JpegMarkerSegment ReadSegment(int markerAt)
    {
        string name = JpegMarkers.Name(_data[markerAt + 1]);
        int lengthAt = markerAt + 2;
        if (lengthAt + 2 > _data.Length)
        {
            throw new JpegFormatException($"{name} segment length is cut off by the end of the data", lengthAt);
        }

        int length = (_data[lengthAt] << 8) | _data[lengthAt + 1];
        if (length < 2)
        {
            throw new JpegFormatException($"{name} segment length {length} is less than 2", lengthAt);
        }

        if (lengthAt + length > _data.Length)
        {
            throw new JpegFormatException($"{name} segment of {length} bytes runs past the end of the data", lengthAt);
        }

        Position = lengthAt + length;
        return new JpegMarkerSegment(_data[markerAt + 1], markerAt, length, _data.Slice(lengthAt + 2, length - 2));
    }

    // Markers that stand alone (B.1.1.3): SOI, EOI, RSTn and TEM. 0x00 is a stuffed byte, not a marker, and
    // has no segment either.
    private static bool HasSegment(byte marker) =>
        marker is not (JpegMarkers.Soi or JpegMarkers.Eoi or JpegMarkers.Tem or 0x00 or (>= JpegMarkers.Rst0 and <= JpegMarkers.Rst7));
}
