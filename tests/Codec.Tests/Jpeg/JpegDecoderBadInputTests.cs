using System.Buffers.Binary;
using System.Diagnostics;
using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>Malformed and unsupported streams give <see cref="JpegFormatException"/> with a position, never anything else.</summary>
public class JpegDecoderBadInputTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Decodes, treating success or a typed error as fine; anything else, or too long, fails the test.</summary>
    internal static string? DecodeExpectingOnlyTypedErrors(byte[] data, JpegDecoderOptions? options, string what, TimeSpan budget)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            JpegDecoder.DecodeDetailed(data, options);
            return null;
        }
        catch (JpegFormatException e)
        {
            Assert.InRange(e.ByteOffset, 0, data.Length + (options?.Tables.Length ?? 0));
            return e.Message;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of JpegFormatException: {e}");
            return null;
        }
        finally
        {
            Assert.True(watch.Elapsed < budget, $"{what}: took {watch.Elapsed.TotalSeconds:F1} s (budget {budget.TotalSeconds} s)");
        }
    }

    public static TheoryData<string> CommittedBadFiles()
    {
        var data = new TheoryData<string>();
        foreach (string f in Directory.GetFiles(Path.Combine(JpegGoldenFiles.Folder, "bad")).Order())
        {
            data.Add(Path.GetFileName(f));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CommittedBadFiles))]
    public void Committed_bad_file_gives_a_typed_error(string file)
    {
        byte[] data = JpegGoldenFiles.Read(Path.Combine("bad", file));
        var e = Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(data));
        Assert.InRange(e.ByteOffset, 0, data.Length);
        if (file is "arithmetic.jpg" or "lossless.jpg" or "12bit.jpg")
        {
            Assert.Contains("not supported", e.Message);
        }
    }

    [SkippableFact]
    public void Libjpeg_turbo_regression_corpus_gives_images_or_typed_errors()
    {
        Skip.If(TestPaths.SharedData is null, "../shared/data is absent: the libjpeg-turbo bad-input corpus is only in this workplace");
        string[] files = [.. Directory.GetFiles(Path.Combine(TestPaths.SharedData!, "jpeg-bad-inputs"), "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith("README.md", StringComparison.Ordinal)).Order()];
        Assert.True(files.Length >= 277, $"expected the 277-file corpus, found {files.Length}");
        int decoded = 0;
        foreach (string f in files)
        {
            if (DecodeExpectingOnlyTypedErrors(File.ReadAllBytes(f), null, f, TimeSpan.FromSeconds(new FileInfo(f).Length > 1_000_000 ? 60 : 10)) == null)
            {
                decoded++;
                output.WriteLine("decoded: " + f);
            }

            DecodeExpectingOnlyTypedErrors(File.ReadAllBytes(f), new JpegDecoderOptions { Tolerant = true, MaxPixels = 20_000_000 }, f + " (tolerant)", TimeSpan.FromSeconds(10));
        }

        output.WriteLine($"{decoded} of {files.Length} corpus files decode in strict mode; the rest give JpegFormatException");
        Assert.InRange(decoded, 1, files.Length - 200);
    }

    [Fact]
    public void Every_truncation_gives_a_typed_error_with_an_offset_inside_the_data()
    {
        foreach (string file in new[] { "cj_s420_odd.jpg", "cj_prog_444.jpg", "cj_restart_7b.jpg" })
        {
            byte[] jpeg = JpegGoldenFiles.Read(file);
            for (int length = 0; length < jpeg.Length - 2; length += 7)
            {
                byte[] cut = jpeg[..length];
                var e = Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(cut));
                Assert.InRange(e.ByteOffset, 0, length);
            }
        }
    }

    [Fact]
    public void Truncation_inside_a_scan_names_the_MCU()
    {
        byte[] jpeg = JpegGoldenFiles.Read("cj_q75.jpg");
        byte[] cut = jpeg[..(jpeg.Length / 2)];
        var e = Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(cut));
        Assert.NotNull(e.Mcu);
        Assert.InRange(e.Mcu!.Value, 1, 17 * 9);
    }

    [Theory]
    [InlineData(0, 64)]
    [InlineData(64, 0)]
    public void Zero_dimension_is_rejected(int width, int height)
    {
        byte[] jpeg = WithSize(JpegGoldenFiles.Read("cj_q50.jpg"), width, height);
        var e = Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(jpeg));
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void Declared_size_far_beyond_the_data_is_rejected_before_allocating()
    {
        byte[] jpeg = WithSize(JpegGoldenFiles.Read("cj_q50.jpg"), 9000, 9000);
        var e = Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(jpeg));
        Assert.Contains("needs at least", e.Message);
    }

    [Fact]
    public void Pixel_limit_is_enforced_and_configurable()
    {
        byte[] jpeg = JpegGoldenFiles.Read("cj_q50.jpg");
        var e = Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(jpeg, new JpegDecoderOptions { MaxPixels = 64 * 63 }));
        Assert.Contains("pixel limit", e.Message);
        Assert.Equal(64, JpegDecoder.Decode(jpeg, new JpegDecoderOptions { MaxPixels = 64 * 64 }).Width);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47 })]
    [InlineData(new byte[] { 0xFF, 0xD8 })]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xD9 })]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xDB, 0x00 })]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x01 })]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00 })]
    public void Tiny_garbage_gives_a_typed_error(byte[] data)
        => Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(data));

    [Fact]
    public void Corrupt_huffman_data_is_reported_with_offset_and_mcu()
    {
        byte[] jpeg = JpegGoldenFiles.Read("cj_q75.jpg");
        (byte _, int sos, int sosLength) = JpegStreamEditing.Segments(jpeg).Single(s => s.Marker == 0xDA);
        int scanStart = sos + sosLength;
        byte[] bad = (byte[])jpeg.Clone();
        for (int i = scanStart + 200; i < scanStart + 240; i++)
        {
            bad[i] = 0xFE; // Long runs of ones are no valid code of the Annex K tables.
        }

        var e = Assert.Throws<JpegFormatException>(() => JpegDecoder.Decode(bad));
        Assert.NotNull(e.Mcu);
        Assert.InRange(e.ByteOffset, scanStart + 150, scanStart + 260);
    }

    private static byte[] WithSize(byte[] jpeg, int width, int height)
    {
        byte[] copy = (byte[])jpeg.Clone();
        (byte _, int sof, int _) = JpegStreamEditing.Segments(copy).First(s => s.Marker is 0xC0 or 0xC2);
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 5), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 7), (ushort)width);
        return copy;
    }
}
