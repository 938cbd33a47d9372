using System.Text.Json;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm check FILE</c>: the strict grammar check of a JPEG file (or of a token-stream body under a
/// profile), patch by patch. H.264 files (.h264, .264, .avc) go to the H.264 slice checker.
/// </summary>
internal sealed class CheckCommand : ICliCommand
{
    public string Name => "check";

    public string Summary => "check a JPEG's (or H.264's) syntax patch by patch; exit 1 if corrupt";

    public string Usage => """
        jpeglm check FILE [--profile P.json] [--tables T.jpg] [--json] [--map MAP.png]
          FILE       a JPEG file (full or image-only), or with --profile a token-stream body (no SOI)
                     .h264/.264/.avc files are checked by the H.264 slice checker
          --profile  the data set's profile: its tables are used and bodies are accepted
          --tables   a tables-only stream (or any JPEG) whose DHT tables an image-only FILE uses
                     (default: the tables of T.81 Annex K, as Motion-JPEG decoders assume)
          --json     print {"codec":"jpeg","valid":..,"patchCount":..,"corrupt":[{"patch","offset","reason"}]}
          --map      write a PNG: the tolerant decode with corrupt patches tinted red
        exit 0 valid, 1 corrupt patches (listed), 2 unreadable file or usage error
        """;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new CliArgs(args, "json");
        string input = a.Positional(0, "FILE");
        string? profilePath = a.String("profile");
        string? tablesPath = a.String("tables");
        string? mapPath = a.String("map");
        bool json = a.Flag("json");
        a.EnsureAllUsed(1);
        string ext = Path.GetExtension(input).ToUpperInvariant();
        if (ext is ".H264" or ".264" or ".AVC")
        {
            if (profilePath != null || tablesPath != null || mapPath != null)
            {
                throw new UsageException("--profile, --tables and --map apply to JPEG files only");
            }

            return AvcCheckCommand.Run(input, json, stdout, stderr);
        }

        try
        {
            byte[] data = File.ReadAllBytes(input);
            JpegProfile? profile = profilePath == null ? null
                : CodecProfile.Load(profilePath) as JpegProfile ?? throw new UsageException($"{profilePath} is not a JPEG profile");
            byte[]? tables = tablesPath == null ? null : File.ReadAllBytes(tablesPath);
            IReadOnlyList<JpegHuffmanTableSpec> huffman = tables != null ? JpegStreamHeaders.Parse(tables).HuffmanTables
                : profile?.HuffmanSpecs() ?? JpegScanGrammar.AnnexKTables;
            bool isFile = data.Length >= 2 && data[0] == 0xFF && data[1] == 0xD8;
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
                stdout.WriteLine(ToJson(report));
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

    /// <summary>The machine-readable report; missing patches are listed as corrupt too.</summary>
    public static string ToJson(JpegScanReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("codec", "jpeg");
            w.WriteBoolean("valid", report.IsValid);
            w.WriteNumber("patchCount", report.PatchCount);
            w.WriteStartArray("corrupt");
            foreach (JpegScanIssue i in report.Issues)
            {
                w.WriteStartObject();
                w.WriteNumber("patch", i.Patch);
                w.WriteNumber("offset", i.Offset);
                w.WriteString("reason", i.Reason);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

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

        File.WriteAllBytes(path + ".tmp", PngCodec.Write(image));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
