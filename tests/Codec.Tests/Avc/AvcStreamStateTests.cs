using JpegLm.Codec.Avc;
using JpegLm.Codec.Avc.Grammar;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;
using Xunit.Abstractions;

namespace JpegLm.Codec.Tests.Avc;

/// <summary>
/// The token-level H.264 grammar (<see cref="AvcStreamState"/>) against streams our encoder writes, against the
/// slice-level checker and validator (the second opinion), and against ffmpeg.
/// </summary>
public class AvcStreamStateTests(ITestOutputHelper output)
{
    private static readonly AvcProfile Small = AvcProfile.Create("t-48x32", 48, 32, fps: 3, frames: 4, qp: 30, refs: 3, sliceMaxMbs: 1);
    private static readonly AvcProfile Paper = AvcProfile.Paper();

    // Moving, textured frames so that the encoder uses intra 4x4 and 16x16, motion, skips and residuals.
    private static void Paint(int k, Yuv420Frame f)
    {
        for (int y = 0; y < f.Height; y++)
        {
            for (int x = 0; x < f.Width; x++)
            {
                f.Y[(y * f.Width) + x] = (byte)((((x + (3 * k)) * 37) ^ ((y + k) * 11)) & 255);
            }
        }

        f.U.AsSpan().Fill((byte)(100 + (9 * k)));
        f.V.AsSpan().Fill(140);
    }

    public static TheoryData<string> Profiles() => new(["small", "paper"]);

    private static AvcProfile ProfileNamed(string name) => name == "small" ? Small : Paper;

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Every_byte_of_an_encoded_stream_is_allowed_and_it_completes_only_at_the_end(string name)
    {
        AvcProfile profile = ProfileNamed(name);
        int frames = name == "small" ? 4 : 3;
        byte[] file = AvcTestClips.Encode(profile, frames, Paint);
        byte[] tokens = profile.ToTokenBytes(file);
        var g = new AvcStreamGrammar(profile, frames, frames);
        var s = new AvcStreamState(g);
        long before = s.ShortestCompletion();
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.False(s.IsComplete && i > 0 && s.Pictures >= frames);
            if (i % 53 == 0)
            {
                for (int b = 0; b < 256; b += 5)
                {
                    Assert.Equal(s.IsAllowed((byte)b), Copy(s).Consume((byte)b));
                }
            }

            Assert.True(s.Consume(tokens[i]), $"byte {i} of {tokens.Length} refused at picture {s.Position}");
        }

        Assert.True(s.IsComplete);
        Assert.Equal(frames, s.Pictures);
        Assert.Equal(0, s.ShortestCompletion());
        output.WriteLine($"{name}: {tokens.Length} token bytes, canonical completion from the start {before} bytes");
        Assert.True(before > 0 && before < tokens.Length);
    }

    [Fact]
    public void Damaged_streams_are_refused_inside_the_damaged_slice_or_later_never_before()
    {
        byte[] file = AvcTestClips.Encode(Small, 2, Paint);
        byte[] tokens = Small.ToTokenBytes(file);
        var g = new AvcStreamGrammar(Small, 2, 2);
        var rng = new Random(14);
        int refused = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            byte[] bad = (byte[])tokens.Clone();
            int at = rng.Next(bad.Length);
            bad[at] ^= (byte)(1 << rng.Next(8));
            var s = new AvcStreamState(g);
            int i = 0;
            while (i < bad.Length && s.Consume(bad[i]))
            {
                i++;
            }

            if (i < bad.Length || !s.IsComplete)
            {
                refused++;
                Assert.True(i >= at, $"refused at {i}, before the damage at {at}");
            }
            else
            {
                // Accepted to the end: then it is a valid stream by the checker too.
                AvcCheckResult check = AvcStreamChecker.Check(new MemoryStream(Small.FromTokenBytes(bad)));
                Assert.True(check.Valid, $"state accepted a flip at {at} that the checker refuses");
            }
        }

        output.WriteLine($"{refused}/200 single-bit flips refused");
        Assert.True(refused > 100);
    }

    [Fact]
    public void Every_reachable_state_on_random_walks_has_an_allowed_byte_that_shortens_its_completion_by_one()
    {
        var g = new AvcStreamGrammar(Small, 1, 2);
        var rng = new Random(3);
        int states = 0;
        for (int walk = 0; walk < 6; walk++)
        {
            var s = new AvcStreamState(g);
            while (!s.IsComplete || rng.Next(3) != 0)
            {
                long here = s.ShortestCompletion();
                Assert.True(here >= 0);
                Assert.True(here <= s.OwnCompletionBound());
                Assert.True(s.OwnCompletionBound() <= s.CompletionBound());
                var allowed = Enumerable.Range(0, 256).Where(b => s.IsAllowed((byte)b)).ToList();
                if (s.IsComplete && allowed.Count == 0)
                {
                    break;
                }

                Assert.NotEmpty(allowed);
                Assert.Equal(s.IsComplete, here == 0);
                if (!s.IsComplete)
                {
                    // (A complete stream may also go on; then it has a new picture to finish.)
                    Assert.True(allowed.Any(b => Copy(s, (byte)b).ShortestCompletion() == here - 1),
                        $"state {s.Position} completion {here}: " + string.Join(" ", allowed.Take(12).Select(b => $"{b:X2}->{Copy(s, (byte)b).ShortestCompletion()}")));
                }

                int pick = walk % 2 == 0 ? allowed[rng.Next(allowed.Count)] : Longest(s, allowed, rng);
                Assert.True(s.Consume((byte)pick));
                states++;
            }
        }

        output.WriteLine($"{states} states checked");
    }

    [Fact]
    public void Sampled_streams_pass_the_checker_the_validator_and_decode_to_whole_pictures()
    {
        foreach ((byte[] file, int pictures) in SampledFiles())
        {
            AvcCheckResult check = AvcStreamChecker.Check(new MemoryStream(file));
            Assert.True(check.Valid, string.Join("; ", check.Corrupt.Select(c => c.ToString())));
            int header = AvcProfile.ParameterSetsLength(file);
            var v = new AvcStreamValidator(file.AsSpan(0, header), new AvcValidatorOptions { MaxPictures = 2 });
            Assert.True(v.TryAppend(file.AsSpan(header)), v.LastRefusal);
            Assert.True(v.TryEnd(), v.LastRefusal);
            List<Yuv420Frame> frames = [.. new AvcDecoder().Decode(new MemoryStream(file))];
            Assert.Equal(pictures, frames.Count);
        }
    }

    [SkippableFact]
    public void Ffmpeg_decodes_every_sampled_stream_without_an_error_and_with_every_picture()
    {
        Skip.If(OutsideDecoders.FfmpegMissing != null, OutsideDecoders.FfmpegMissing);
        string dir = TestPaths.NewTempDirectory();
        int n = 0;
        foreach ((byte[] file, int pictures) in SampledFiles())
        {
            string path = Path.Combine(dir, $"sampled-{n++}.h264");
            File.WriteAllBytes(path, file);
            OutsideVerdict v = OutsideDecoders.Ffmpeg(path);
            Assert.True(v.Clean, $"{path}: exit {v.ExitCode}: {v.Stderr}");
            Assert.Equal(pictures, v.Frames);
        }

        output.WriteLine($"ffmpeg: {n} sampled streams clean ({dir})");
    }

    // Streams drawn byte by byte among the allowed bytes: uniformly, or dragged towards long completions.
    private static List<(byte[] File, int Pictures)> SampledFiles()
    {
        var g = new AvcStreamGrammar(Small, 1, 2);
        var rng = new Random(2026);
        var files = new List<(byte[], int)>();
        for (int trial = 0; trial < 8; trial++)
        {
            var s = new AvcStreamState(g);
            var bytes = new List<byte>();
            while (!(s.IsComplete && (s.Pictures == 2 || rng.Next(4) == 0)))
            {
                var allowed = Enumerable.Range(0, 256).Where(b => s.IsAllowed((byte)b)).ToList();
                int pick = trial % 2 == 1 && rng.Next(3) == 0 ? Longest(s, allowed, rng) : allowed[rng.Next(allowed.Count)];
                Assert.True(s.ShortestCompletion() <= s.OwnCompletionBound()); // the bound the token mask trusts
                Assert.True(s.Consume((byte)pick));
                bytes.Add((byte)pick);
                Assert.True(bytes.Count < 400_000);
            }

            files.Add((Small.FromTokenBytes([.. bytes]), s.Pictures));
        }

        return files;
    }

    private static int Longest(AvcStreamState s, List<int> allowed, Random rng)
    {
        long most = -1;
        var ties = new List<int>();
        foreach (int b in allowed)
        {
            long rest = Copy(s, (byte)b).ShortestCompletion();
            if (rest > most)
            {
                most = rest;
                ties.Clear();
            }

            if (rest == most)
            {
                ties.Add(b);
            }
        }

        return ties[rng.Next(ties.Count)];
    }

    private static AvcStreamState Copy(AvcStreamState s) => s;

    private static AvcStreamState Copy(AvcStreamState s, byte b)
    {
        s.Consume(b);
        return s;
    }
}
