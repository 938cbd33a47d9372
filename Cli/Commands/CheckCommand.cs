using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.Avc;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.IO;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm check FILE</c>: the strict syntax check, patch by patch — a JPEG restart interval or an H.264 slice is
/// one patch. The file's kind is recognised by content (falling back to its extension); with <c>--profile</c> FILE
/// may also be a JPEG token-stream body (no SOI). Exit 0 valid, 1 corrupt patches (listed), 2 unreadable or usage.
/// </summary>
internal sealed class CheckCommand : CliCommand
{
    private readonly Argument<string> _file = CliOptions.Path("FILE", "a JPEG (full or image-only) or an H.264 stream, recognised by content; with --profile also a JPEG token-stream body");
    private readonly Option<bool> _json = CliOptions.Flag("--json", """print {"codec":"jpeg"|"avc","valid":..,"patchCount":..,"corrupt":[{"patch","offset","reason"(,"frame","firstMb")}]}""");
    private readonly Option<string?> _profile = CliOptions.Text("--profile", "P.json", "JPEG: the data set's profile: its tables are used and token-stream bodies are accepted");
    private readonly Option<string?> _tables = CliOptions.Text("--tables", "T.jpg", "JPEG: a tables-only stream (or any JPEG) whose DHT tables an image-only FILE uses (default: T.81 Annex K's, as Motion-JPEG decoders assume)");
    private readonly Option<string?> _map = CliOptions.Text("--map", "MAP.png", "JPEG: write the tolerant decode with corrupt patches tinted red");

    public CheckCommand()
        : base("check", "check a JPEG's or H.264 stream's syntax patch by patch; exit 1 if corrupt", """
            Exit codes: 0 valid, 1 corrupt patches (listed), 2 unreadable file or usage error.

            Examples:
              jpeglm check sample.jpg --json
              jpeglm check body.bin --profile data/profile.json --map map.png
              jpeglm check clip.jsv
            """)
    {
        Add(_file, _json, _profile, _tables, _map);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string input = parsed.Value(_file);
        bool json = parsed.Value(_json);
        string? profilePath = parsed.GetValue(_profile);
        MediaKind? kind;
        try
        {
            // A token-stream body has no signature of its own: with --profile the file is JPEG.
            kind = profilePath == null ? MediaKind.Detect(input) : MediaKind.Jpeg;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"jpeglm check: {input}: {e.Message}");
            return 2;
        }

        if (kind == MediaKind.H264)
        {
            if (parsed.IsGiven(_tables) || parsed.IsGiven(_map))
            {
                throw new UsageException("--profile, --tables and --map apply to JPEG files only");
            }

            return CheckAvc(input, json, stdout, stderr);
        }

        return CheckJpeg(input, json, profilePath, parsed.GetValue(_tables), parsed.GetValue(_map), stdout, stderr);
    }

    private static int CheckJpeg(string input, bool json, string? profilePath, string? tablesPath, string? mapPath, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            byte[] data = File.ReadAllBytes(input);
            JpegProfile? profile = profilePath == null ? null
                : CodecProfile.Load(profilePath) as JpegProfile ?? throw new UsageException($"{profilePath} is not a JPEG profile");
            byte[]? tables = tablesPath == null ? null : File.ReadAllBytes(tablesPath);
            IReadOnlyList<JpegHuffmanTableSpec> huffman = tables != null ? JpegStreamHeaders.Parse(tables).HuffmanTables
                : profile?.HuffmanSpecs() ?? JpegScanGrammar.AnnexKTables;
            bool isFile = MediaKind.FromContent(data) == MediaKind.Jpeg;
            if (!isFile && profile == null)
            {
                stderr.WriteLine($"jpeglm check: {input}: no SOI; give --profile to check a token-stream body");
                return 2;
            }

            JpegScanReport report = isFile
                ? JpegScanChecker.CheckFile(data, huffman)
                : JpegScanChecker.CheckScan(data, 0, profile!.TokenGrammar());
            if (json)
            {
                stdout.WriteLine(ToJson("jpeg", report.IsValid, report.PatchCount, report.Issues.Select(i => new Corrupt(i.Patch, i.Offset, i.Reason, null, null))));
            }
            else
            {
                foreach (JpegScanIssue i in report.Issues)
                {
                    string kind = report.Patches[i.Patch] == JpegPatchStatus.Missing ? " (missing)" : "";
                    stdout.WriteLine($"patch {i.Patch}{kind} at byte {i.Offset}: {i.Reason}");
                }

                int bad = report.Patches.Count(p => p != JpegPatchStatus.Ok);
                stdout.WriteLine(report.IsValid ? $"{input}: valid, {report.PatchCount} patches" : $"{input}: {bad} of {report.PatchCount} patches corrupt");
            }

            if (mapPath != null)
            {
                byte[] file = isFile ? data : profile!.FromTokenBytes(data);
                try
                {
                    WriteMap(mapPath, file, tables ?? profile?.TablesStream(), report);
                }
                catch (Exception e) when (e is JpegFormatException or IOException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"jpeglm check: no map written: {e.Message}");
                }
            }

            return report.IsValid ? 0 : 1;
        }
        catch (Exception e) when (e is JpegFormatException or IOException or UnauthorizedAccessException or JsonException)
        {
            stderr.WriteLine($"jpeglm check: {input}: {e.Message}");
            return 2;
        }
    }

    private static int CheckAvc(string input, bool json, TextWriter stdout, TextWriter stderr)
    {
        AvcCheckResult result;
        try
        {
            using FileStream fs = File.OpenRead(input);
            result = AvcStreamChecker.Check(fs);
        }
        catch (Exception e) when (e is AvcFormatException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"jpeglm check: {input}: {e.Message}");
            return 2;
        }

        if (result.PatchCount == 0)
        {
            stderr.WriteLine($"jpeglm check: {input}: no slices found");
            return 2;
        }

        if (json)
        {
            stdout.WriteLine(ToJson("avc", result.Valid, result.PatchCount, result.Corrupt.Select(e => new Corrupt(e.Slice, e.ByteOffset, e.Reason, e.Frame, e.FirstMb))));
        }
        else
        {
            foreach (AvcSliceError e in result.Corrupt)
            {
                stdout.WriteLine($"slice {e.Slice} (frame {e.Frame}, first macroblock {e.FirstMb}, byte offset {e.ByteOffset}): {e.Reason}");
            }

            stdout.WriteLine(result.Valid ? $"{input}: valid, {result.PatchCount} slices" : $"{input}: {result.Corrupt.Count} of {result.PatchCount} slices corrupt");
        }

        return result.Valid ? 0 : 1;
    }

    /// <summary>One corrupt patch in the JSON report; H.264 adds the frame and first macroblock of the slice.</summary>
    internal readonly record struct Corrupt(
        [property: JsonPropertyName("patch")] int Patch,
        [property: JsonPropertyName("offset")] long Offset,
        [property: JsonPropertyName("reason")] string Reason,
        [property: JsonPropertyName("frame"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Frame,
        [property: JsonPropertyName("firstMb"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? FirstMb);

    /// <summary>The machine-readable report of either codec: codec, valid, patchCount, corrupt[] (missing JPEG patches included).</summary>
    internal static string ToJson(string codec, bool valid, int patchCount, IEnumerable<Corrupt> corrupt)
        => CliJson.Serialize(new CheckReport(codec, valid, patchCount, corrupt.ToList()));

    /// <summary>Decodes tolerantly and tints the MCUs of every flagged patch red.</summary>
    private static void WriteMap(string path, byte[] file, byte[]? tables, JpegScanReport report)
    {
        JpegDecodeResult decoded = JpegDecoder.DecodeDetailed(file, new JpegDecoderOptions { Tolerant = true, Tables = tables ?? ReadOnlyMemory<byte>.Empty });
        PixelImage image = decoded.Image.ToRgb();
        if (ReferenceEquals(image, decoded.Image))
        {
            image = new PixelImage(image.Width, image.Height, 3, (byte[])image.Pixels.Clone());
        }

        JpegStreamHeaders h = JpegStreamHeaders.Parse(file);
        int mcuW = h.ScanComponents.Count == 1 ? 8 : 8 * h.ScanComponents.Max(c => c.H);
        int mcuH = h.ScanComponents.Count == 1 ? 8 : 8 * h.ScanComponents.Max(c => c.V);
        int perRow = (h.Width + mcuW - 1) / mcuW;
        int mcuCount = perRow * ((h.Height + mcuH - 1) / mcuH);
        int interval = h.RestartInterval > 0 ? h.RestartInterval : mcuCount;
        for (int p = 0; p < report.PatchCount; p++)
        {
            if (report.Patches[p] == JpegPatchStatus.Ok)
            {
                continue;
            }

            for (int m = p * interval; m < Math.Min(mcuCount, (p + 1) * interval); m++)
            {
                int x0 = m % perRow * mcuW, y0 = m / perRow * mcuH;
                for (int y = y0; y < Math.Min(h.Height, y0 + mcuH); y++)
                {
                    Span<byte> row = image.Row(y);
                    for (int x = x0; x < Math.Min(h.Width, x0 + mcuW); x++)
                    {
                        row[3 * x] = (byte)((row[3 * x] + 255) / 2);
                        row[(3 * x) + 1] /= 2;
                        row[(3 * x) + 2] /= 2;
                    }
                }
            }
        }

        ImageFile.Save(path, image);
    }
}
