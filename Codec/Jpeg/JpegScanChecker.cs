namespace JpegLm.Codec.Jpeg;

/// <summary>What the checker found for one patch (restart interval).</summary>
public enum JpegPatchStatus : byte
{
    /// <summary>The interval's data and its closing marker follow the grammar.</summary>
    Ok,

    /// <summary>Something in the interval (or its closing marker) breaks the grammar.</summary>
    Corrupt,

    /// <summary>The interval is absent: the stream ended, or a later restart marker skipped it.</summary>
    Missing,
}

/// <summary>One finding: the patch, the offset of the first bad byte in the file, and why.</summary>
/// <param name="Patch">0-based restart-interval index in scan order.</param>
/// <param name="Offset">Byte offset from the start of the checked data.</param>
/// <param name="Error">The kind of error.</param>
public readonly record struct JpegScanIssue(int Patch, long Offset, JpegScanError Error)
{
    /// <summary>The error in words.</summary>
    public string Reason => JpegScanChecker.Describe(Error);
}

/// <summary>The result of checking one scan: a status per patch and the findings in stream order.</summary>
public sealed class JpegScanReport
{
    internal JpegScanReport(JpegPatchStatus[] patches, List<JpegScanIssue> issues)
    {
        Patches = patches;
        Issues = issues;
    }

    /// <summary>Restart intervals in the scan (1 when the stream has no DRI).</summary>
    public int PatchCount => Patches.Count;

    /// <summary>Status of each patch in scan order.</summary>
    public IReadOnlyList<JpegPatchStatus> Patches { get; }

    /// <summary>Findings in stream order; at most one per patch, plus stream-level ones on the last patch.</summary>
    public IReadOnlyList<JpegScanIssue> Issues { get; }

    /// <summary>True when the stream follows the grammar completely.</summary>
    public bool IsValid => Issues.Count == 0;
}

/// <summary>
/// The strict JPEG grammar checker: walks a baseline scan interval by interval and reports, per
/// restart interval, whether it is well formed. Stricter than libjpeg: it refuses codes outside the
/// table, DC categories above 11, AC sizes above 10, runs past coefficient 63, a ZRL not followed
/// by a non-zero coefficient of its block (T.81 F.1.2.2.1; libjpeg ends the block instead), FF
/// bytes not followed by 00 or the expected RSTn, padding that is not 1-bits or is 8 bits or more, wrong restart numbers,
/// intervals with too few or too many MCUs, a missing EOI and trailing bytes. After an error it
/// resynchronises at the next restart marker, so that one damaged patch does not hide the rest.
/// </summary>
public static class JpegScanChecker
{
    /// <summary>Checks a whole file (SOI … EOI).</summary>
    /// <param name="file">The file's bytes.</param>
    /// <param name="defaultTables">Huffman tables for streams that carry none (image-only streams); Annex K when null.</param>
    /// <exception cref="JpegFormatException">The headers cannot be read, so no patch can be checked.</exception>
    public static JpegScanReport CheckFile(ReadOnlySpan<byte> file, IEnumerable<JpegHuffmanTableSpec>? defaultTables = null)
    {
        JpegStreamHeaders headers = JpegStreamHeaders.Parse(file);
        JpegScanGrammar grammar = JpegScanGrammar.Create(headers, defaultTables ?? JpegScanGrammar.AnnexKTables);
        return CheckScan(file, headers.ScanDataOffset, grammar);
    }

    /// <summary>
    /// Checks the stream from <paramref name="start"/> on against <paramref name="grammar"/>; offsets
    /// in the report count from the start of <paramref name="data"/>.
    /// </summary>
    public static JpegScanReport CheckScan(ReadOnlySpan<byte> data, int start, JpegScanGrammar grammar)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        int n = grammar.IntervalCount;
        var patches = new JpegPatchStatus[n];
        var issues = new List<JpegScanIssue>();
        var state = new JpegScanState(grammar);
        int pos = start;
        while (pos < data.Length)
        {
            if (state.Consume(data[pos]))
            {
                pos++;
                continue;
            }

            int i = state.Interval;
            Flag(patches, issues, i, pos, state.Error, JpegPatchStatus.Corrupt);
            if (state.Error is JpegScanError.TrailingBytes or JpegScanError.HeaderMismatch)
            {
                return new JpegScanReport(patches, issues);
            }

            int q = FindMarker(data, Math.Max(start, pos - 1));
            if (q < 0)
            {
                MarkMissing(patches, issues, i + 1, n, data.Length);
                return new JpegScanReport(patches, issues);
            }

            byte code = data[q + 1];
            if (code == 0xD9)
            {
                MarkMissing(patches, issues, i + 1, n, q);
                if (q + 2 < data.Length && grammar.EndsWithEoi)
                {
                    Flag(patches, issues, n - 1, q + 2, JpegScanError.TrailingBytes, JpegPatchStatus.Corrupt);
                }

                return new JpegScanReport(patches, issues);
            }

            int next = NextInterval(data, q, i, code - 0xD0, n);
            if (next >= n)
            {
                return new JpegScanReport(patches, issues);
            }

            for (int skipped = i + 1; skipped < next; skipped++)
            {
                Flag(patches, issues, skipped, q, JpegScanError.LostInResync, JpegPatchStatus.Corrupt);
            }

            state.RestartAt(next);
            pos = q + 2;
        }

        if (!state.IsComplete && !state.IsFailed)
        {
            int i = state.Interval;
            Flag(patches, issues, i, data.Length, JpegScanError.MissingEndOfImage, JpegPatchStatus.Corrupt);
            MarkMissing(patches, issues, i + 1, n, data.Length);
        }

        return new JpegScanReport(patches, issues);
    }

    /// <summary>The error in words, as the report and <c>jpeglm check</c> print it.</summary>
    public static string Describe(JpegScanError error) => error switch
    {
        JpegScanError.None => "ok",
        JpegScanError.InvalidHuffmanCode => "Huffman code not in the table",
        JpegScanError.DcCategoryTooLarge => "DC category above 11",
        JpegScanError.InvalidAcSymbol => "AC symbol with size above 10 or undefined run/size",
        JpegScanError.RunPastEndOfBlock => "zero run passes coefficient 63",
        JpegScanError.BadByteStuffing => "FF not followed by 00 or the expected marker",
        JpegScanError.BadPadding => "padding before the marker is not 1-bits or is 8 bits or more",
        JpegScanError.WrongRestartNumber => "restart marker with the wrong number",
        JpegScanError.TooFewMcus => "marker before the last MCU of the interval (too few MCUs)",
        JpegScanError.TooManyMcus => "data where the interval should end (too many MCUs)",
        JpegScanError.MissingEndOfImage => "stream ends early (missing data or EOI)",
        JpegScanError.TrailingBytes => "bytes after the end of the stream",
        JpegScanError.HeaderMismatch => "header differs from the profile",
        JpegScanError.LostInResync => "interval unreadable: resynchronised at a later restart marker",
        JpegScanError.ZeroRunWithoutCoefficient => "ZRL not followed by a non-zero coefficient in the block",
        _ => error.ToString(),
    };

    private static void Flag(JpegPatchStatus[] patches, List<JpegScanIssue> issues, int patch, long offset, JpegScanError error, JpegPatchStatus status)
    {
        patch = Math.Clamp(patch, 0, patches.Length - 1);
        if (patches[patch] == JpegPatchStatus.Ok)
        {
            patches[patch] = status;
            issues.Add(new JpegScanIssue(patch, offset, error));
        }
    }

    private static void MarkMissing(JpegPatchStatus[] patches, List<JpegScanIssue> issues, int from, int to, long offset)
    {
        for (int p = from; p < to; p++)
        {
            Flag(patches, issues, p, offset, JpegScanError.MissingEndOfImage, JpegPatchStatus.Missing);
        }
    }

    /// <summary>First offset ≥ <paramref name="from"/> of an RSTn or EOI marker, or −1.</summary>
    private static int FindMarker(ReadOnlySpan<byte> data, int from)
    {
        for (int q = from; q + 1 < data.Length; q++)
        {
            if (data[q] == 0xFF && data[q + 1] is (>= 0xD0 and <= 0xD7) or 0xD9)
            {
                return q;
            }
        }

        return -1;
    }

    /// <summary>
    /// Which interval follows the RSTn at <paramref name="q"/> after trouble in interval
    /// <paramref name="current"/>: by count (current + 1), or by the marker's number when intervals
    /// were lost (the first j &gt; current whose predecessor's marker is RSTn). The next marker in
    /// the stream decides between the two; counting wins ties, so a single damaged marker costs one patch.
    /// </summary>
    private static int NextInterval(ReadOnlySpan<byte> data, int q, int current, int number, int count)
    {
        int byCount = current + 1;
        int byNumber = current + 1 + ((number - current + 8) & 7);
        if (byNumber == byCount || byNumber >= count)
        {
            return byCount;
        }

        int after = FindMarker(data, q + 2);
        if (after >= 0 && data[after + 1] != 0xD9 && ((data[after + 1] - 0xD0) & 7) == (byNumber & 7) && ((data[after + 1] - 0xD0) & 7) != (byCount & 7))
        {
            return byNumber;
        }

        return byCount;
    }
}
