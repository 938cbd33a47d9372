using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;

namespace JpegLm.Cli.Pipeline;

/// <summary>Turning JPEG token bytes (the scan after the profile's header) into files, and cutting prompts at patches.</summary>
internal static class JpegTokenStreams
{
    /// <summary>
    /// A complete interchange JPEG for token bytes: the profile's image-only header with its DQT/DHT tables
    /// put back (after APP0), the bytes, and EOI — a file any viewer opens.
    /// </summary>
    public static byte[] ToFullFile(JpegProfile profile, ReadOnlySpan<byte> tokenBytes)
    {
        byte[] imageOnly = profile.FromTokenBytes(tokenBytes);
        byte[] tables = profile.TablesStream();
        ReadOnlySpan<byte> segments = tables.AsSpan(2, tables.Length - 4); // without SOI and EOI
        int app0End = 2;
        if (imageOnly.Length > 6 && imageOnly[2] == 0xFF && imageOnly[3] == 0xE0)
        {
            app0End = 4 + ((imageOnly[4] << 8) | imageOnly[5]);
        }

        var file = new byte[imageOnly.Length + segments.Length];
        imageOnly.AsSpan(0, app0End).CopyTo(file);
        segments.CopyTo(file.AsSpan(app0End));
        imageOnly.AsSpan(app0End).CopyTo(file.AsSpan(app0End + segments.Length));
        return file;
    }

    /// <summary>
    /// The byte offsets in <paramref name="tokenBytes"/> where each patch (restart interval) starts: 0, then just
    /// after each RSTn marker. Entropy-coded data never contains FF D0..D7 (an FF data byte is stuffed as FF 00).
    /// </summary>
    public static List<int> PatchStarts(ReadOnlySpan<byte> tokenBytes)
    {
        var starts = new List<int> { 0 };
        for (int i = 0; i + 1 < tokenBytes.Length; i++)
        {
            if (tokenBytes[i] == 0xFF && tokenBytes[i + 1] is >= 0xD0 and <= 0xD7)
            {
                starts.Add(i + 2);
                i++;
            }
        }

        return starts;
    }

    /// <summary>The first round(ratio · patches) patches of a stream's token bytes, as the paper cuts prompts.</summary>
    public static byte[] PromptPrefix(JpegProfile profile, ReadOnlySpan<byte> tokenBytes, double ratio, out int promptPatches, out int totalPatches)
    {
        totalPatches = profile.TokenGrammar().IntervalCount;
        promptPatches = (int)Math.Round(Math.Clamp(ratio, 0, 1) * totalPatches, MidpointRounding.AwayFromZero);
        if (promptPatches >= totalPatches)
        {
            return tokenBytes.ToArray();
        }

        List<int> starts = PatchStarts(tokenBytes);
        return tokenBytes[..starts[Math.Min(promptPatches, starts.Count - 1)]].ToArray();
    }

    /// <summary>Checks a full file with the strict scan checker: (valid, corrupt patch count, total patches).</summary>
    public static (bool Valid, int Corrupt, int Patches) Check(byte[] file)
    {
        JpegScanReport report = JpegScanChecker.CheckFile(file);
        int corrupt = report.Patches.Count(p => p != JpegPatchStatus.Ok);
        return (report.IsValid, corrupt, report.Patches.Count);
    }
}
