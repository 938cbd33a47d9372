using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;
using Xunit.Abstractions;

namespace JpegLm.Codec.Tests.Jpeg;

public class JpegScanCheckerTests(ITestOutputHelper output)
{
    public static TheoryData<string> ValidFiles() => new(ValidFileNames());

    private static List<string> ValidFileNames()
    {
        var data = new List<string>();
        foreach (string f in Directory.GetFiles(TestPaths.Data("jpeg-check"), "*.jpg").Order())
        {
            data.Add(Path.Combine("jpeg-check", Path.GetFileName(f)));
        }

        foreach (string f in Directory.GetFiles(TestPaths.Data("tokens"), "paper-?.jpg").Order())
        {
            data.Add(Path.Combine("tokens", Path.GetFileName(f)));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public void Every_file_written_by_cjpeg_or_the_oracle_passes(string name)
    {
        byte[] file = File.ReadAllBytes(TestPaths.Data(name));
        JpegScanReport report = JpegScanChecker.CheckFile(file);
        Assert.True(report.IsValid, string.Join("; ", report.Issues.Select(i => $"{i.Patch}@{i.Offset}: {i.Reason}")));
        Assert.All(report.Patches, p => Assert.Equal(JpegPatchStatus.Ok, p));
        JpegStreamHeaders h = JpegStreamHeaders.Parse(file);
        if (h.RestartInterval == 0)
        {
            Assert.Equal(1, report.PatchCount);
        }
    }

    [Fact]
    public void Paper_file_has_256_patches_one_per_mcu()
    {
        byte[] file = File.ReadAllBytes(TestPaths.Data("tokens", "paper-0.jpg"));
        Assert.Equal(256, JpegScanChecker.CheckFile(file).PatchCount);
    }

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public void Incremental_state_allows_every_actual_next_byte_and_completes_only_at_the_end(string name)
    {
        byte[] file = File.ReadAllBytes(TestPaths.Data(name));
        JpegStreamHeaders h = JpegStreamHeaders.Parse(file);
        JpegScanGrammar g = JpegScanGrammar.Create(h, JpegScanGrammar.AnnexKTables);
        var state = new JpegScanState(g);
        Span<ulong> mask = stackalloc ulong[4];
        for (int i = h.ScanDataOffset; i < file.Length; i++)
        {
            Assert.False(state.IsComplete);
            state.FillAllowedMask(mask);
            Assert.True((mask[file[i] >> 6] & (1UL << (file[i] & 63))) != 0, $"byte {i} not in the mask");
            for (int b = 0; b < 256; b += 37)
            {
                Assert.Equal(state.IsAllowed((byte)b), (mask[b >> 6] & (1UL << (b & 63))) != 0);
            }

            Assert.True(state.Consume(file[i]), $"byte {i} refused: {state.Error}");
        }

        Assert.True(state.IsComplete);
        state.FillAllowedMask(mask);
        Assert.Equal(0UL, mask[0] | mask[1] | mask[2] | mask[3]);
    }

    [Fact]
    public void Corruptions_are_flagged_at_or_after_the_damaged_patch_and_never_crash()
    {
        var rng = new Random(20261128);
        int total = 0, flagged = 0, samePatch = 0;
        long distance = 0;
        var byKind = new Dictionary<string, (int Total, int Flagged)>();
        foreach (string name in ValidFileNames())
        {
            byte[] file = File.ReadAllBytes(TestPaths.Data(name));
            JpegStreamHeaders h = JpegStreamHeaders.Parse(file);
            int[] patchOf = PatchOfEachByte(file, h);
            for (int trial = 0; trial < 40; trial++)
            {
                int d = rng.Next(h.ScanDataOffset, file.Length);
                string kind = (trial % 4) switch { 0 => "flip", 1 => "insert", 2 => "delete", _ => "truncate" };
                byte[] bad = kind switch
                {
                    "flip" => Flip(file, d, rng),
                    "insert" => [.. file.AsSpan(0, d), (byte)rng.Next(256), .. file.AsSpan(d)],
                    "delete" => [.. file.AsSpan(0, d), .. file.AsSpan(d + 1)],
                    _ => file.AsSpan(0, d).ToArray(),
                };
                JpegScanReport report = JpegScanChecker.CheckFile(bad);
                total++;
                (int t, int f) = byKind.GetValueOrDefault(kind);
                if (!report.IsValid)
                {
                    flagged++;
                    JpegScanIssue first = report.Issues[0];
                    Assert.True(first.Offset >= d, $"{name} {kind}@{d}: flagged earlier at {first.Offset}");
                    Assert.True(first.Patch >= patchOf[d], $"{name} {kind}@{d}: patch {first.Patch} before damaged {patchOf[d]}");
                    Assert.Equal(JpegPatchStatus.Ok, report.Patches.Take(patchOf[d]).Distinct().SingleOrDefault(JpegPatchStatus.Ok));
                    samePatch += first.Patch == patchOf[d] ? 1 : 0;
                    distance += first.Offset - d;
                    f++;
                }

                byKind[kind] = (t + 1, f);
            }
        }

        output.WriteLine($"{flagged}/{total} corruptions flagged; {samePatch} in the damaged patch; mean distance {(double)distance / Math.Max(1, flagged):F1} bytes");
        foreach ((string k, (int t, int f)) in byKind)
        {
            output.WriteLine($"  {k}: {f}/{t}");
        }

        Assert.True(byKind["truncate"].Flagged == byKind["truncate"].Total, "every truncation must be flagged");
        Assert.True(flagged > total / 2);
    }

    [Fact]
    public void Arbitrary_bytes_never_crash_the_checker()
    {
        var rng = new Random(7);
        byte[] good = File.ReadAllBytes(TestPaths.Data("jpeg-check", "00-a-q25-420-r1.jpg"));
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] bad = (byte[])good.Clone();
            for (int i = 0; i < 1 + rng.Next(8); i++)
            {
                bad[rng.Next(trial % 2 == 0 ? 200 : bad.Length)] = (byte)rng.Next(256);
            }

            try
            {
                _ = JpegScanChecker.CheckFile(bad);
            }
            catch (JpegFormatException)
            {
                // unreadable headers are a typed error, not a crash
            }
        }

        Assert.Throws<JpegFormatException>(() => JpegScanChecker.CheckFile([]));
        byte[] huge = JpegLm.Codec.Tokens.JpegProfile.Standard("huge", 65535, 65535, 25, JpegLm.Codec.Tokens.JpegProfile.Grey, 1).ImageHeader();
        Assert.Throws<JpegFormatException>(() => JpegScanChecker.CheckFile(huge));
        byte[] large = JpegLm.Codec.Tokens.JpegProfile.Standard("large", 4096, 4096, 25, JpegLm.Codec.Tokens.JpegProfile.Yuv420, 1).ImageHeader();
        JpegScanReport truncated = JpegScanChecker.CheckFile(large);
        Assert.Equal(65536, truncated.Issues.Count);
        Assert.Equal(JpegPatchStatus.Corrupt, truncated.Patches[0]);
        Assert.Equal(JpegPatchStatus.Missing, truncated.Patches[^1]);
        Assert.Throws<JpegFormatException>(() => JpegScanChecker.CheckFile([0xFF, 0xD8, 0xFF]));
    }

    [Theory]
    [InlineData(JpegScanError.TooFewMcus)]
    [InlineData(JpegScanError.WrongRestartNumber)]
    [InlineData(JpegScanError.MissingEndOfImage)]
    [InlineData(JpegScanError.TrailingBytes)]
    [InlineData(JpegScanError.BadPadding)]
    public void Specific_damage_gives_the_specific_reason(JpegScanError expected)
    {
        byte[] file = File.ReadAllBytes(TestPaths.Data("tokens", "paper-0.jpg"));
        List<int> rst = [.. Enumerable.Range(0, file.Length - 1).Where(i => file[i] == 0xFF && file[i + 1] is >= 0xD0 and <= 0xD7)];
        byte[] bad = expected switch
        {
            // drop the data of interval 10, keeping its marker: the marker comes too early
            JpegScanError.TooFewMcus => [.. file.AsSpan(0, rst[9] + 2), .. file.AsSpan(rst[10])],
            JpegScanError.WrongRestartNumber => Patched(file, rst[20] + 1, (byte)(0xD0 + ((file[rst[20] + 1] - 0xD0 + 3) & 7))),
            JpegScanError.MissingEndOfImage => file.AsSpan(0, file.Length - 2).ToArray(),
            JpegScanError.TrailingBytes => [.. file, 0x00],
            _ => Patched(file, rst[30] - 1, 0x00), // the byte before a marker holds the padding bits
        };
        JpegScanReport report = JpegScanChecker.CheckFile(bad);
        Assert.False(report.IsValid);
        Assert.Contains(report.Issues, i => i.Error == expected);
    }

    [Fact]
    public void Deleting_one_whole_interval_costs_about_one_patch_not_all_later_ones()
    {
        byte[] file = File.ReadAllBytes(TestPaths.Data("tokens", "paper-1.jpg"));
        List<int> rst = [.. Enumerable.Range(0, file.Length - 1).Where(i => file[i] == 0xFF && file[i + 1] is >= 0xD0 and <= 0xD7)];
        byte[] bad = [.. file.AsSpan(0, rst[40] + 2), .. file.AsSpan(rst[41] + 2)];
        JpegScanReport report = JpegScanChecker.CheckFile(bad);
        Assert.InRange(report.Issues.Count, 1, 3);
        Assert.True(report.Issues[0].Patch >= 41);
        Assert.Equal(JpegPatchStatus.Ok, report.Patches[^1]);
    }

    [Fact]
    public void Random_sampling_of_allowed_bytes_gives_streams_the_batch_checker_accepts()
    {
        var rng = new Random(11);
        (int W, int H, JpegComponentSpec[] C, int Ri)[] layouts =
        [
            (16, 16, [new(1, 1, 1, 0, 0, 0)], 1),
            (32, 32, [new(1, 2, 2, 0, 0, 0), new(2, 1, 1, 1, 1, 1), new(3, 1, 1, 1, 1, 1)], 1),
            (24, 17, [new(1, 1, 1, 0, 0, 0), new(2, 1, 1, 1, 1, 1), new(3, 1, 1, 1, 1, 1)], 4),
            (40, 8, [new(1, 1, 1, 0, 0, 0)], 0),
        ];
        Span<ulong> mask = stackalloc ulong[4];
        var allowed = new List<byte>();
        foreach ((int w, int h, JpegComponentSpec[] comps, int ri) in layouts)
        {
            JpegScanGrammar g = JpegScanGrammar.Create(w, h, comps, ri, JpegScanGrammar.AnnexKTables);
            for (int trial = 0; trial < 20; trial++)
            {
                var state = new JpegScanState(g);
                var bytes = new List<byte>();
                while (!state.IsComplete)
                {
                    state.FillAllowedMask(mask);
                    allowed.Clear();
                    for (int b = 0; b < 256; b++)
                    {
                        if ((mask[b >> 6] & (1UL << (b & 63))) != 0)
                        {
                            allowed.Add((byte)b);
                        }
                    }

                    Assert.NotEmpty(allowed);
                    byte next = allowed[rng.Next(allowed.Count)];
                    Assert.True(state.Consume(next));
                    bytes.Add(next);
                    Assert.True(bytes.Count < 1_000_000);
                }

                JpegScanReport report = JpegScanChecker.CheckScan(bytes.ToArray(), 0, g);
                Assert.True(report.IsValid, string.Join("; ", report.Issues.Select(i => $"{i.Patch}@{i.Offset}: {i.Reason}")));
            }
        }
    }

    private static int[] PatchOfEachByte(byte[] file, JpegStreamHeaders h)
    {
        var patch = new int[file.Length + 1];
        var state = new JpegScanState(JpegScanGrammar.Create(h, JpegScanGrammar.AnnexKTables));
        for (int i = h.ScanDataOffset; i < file.Length; i++)
        {
            patch[i] = state.Interval;
            Assert.True(state.Consume(file[i]));
        }

        patch[file.Length] = state.Interval;
        return patch;
    }

    private static byte[] Flip(byte[] file, int d, Random rng) => Patched(file, d, (byte)(file[d] ^ (1 << rng.Next(8))));

    private static byte[] Patched(byte[] file, int at, byte value)
    {
        byte[] copy = (byte[])file.Clone();
        copy[at] = value;
        return copy;
    }
}
