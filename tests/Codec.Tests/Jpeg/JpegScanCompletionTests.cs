using System.Diagnostics;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using Xunit.Abstractions;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>
/// "Every state that is not failed can be completed", proved by enumerating every state the byte-level
/// grammar can reach under real profiles' Huffman tables (not by random walks, which end blocks early and
/// rarely meet a ZRL near coefficient 63), and the shortest completion checked against its definition.
/// </summary>
public class JpegScanCompletionTests(ITestOutputHelper output)
{
    public static TheoryData<string> Profiles() => new(["paper-4:2:0", "fashion-mnist-grey", "grey-no-restart"]);

    // Real profiles' tables and layouts, at a size that keeps the enumeration to a few seconds while still
    // having more than one interval (restart boundaries, RST numbering) and a last MCU.
    private static JpegScanGrammar Grammar(string name) => name switch
    {
        "paper-4:2:0" => Resized(JpegProfile.Paper(), 32, 16).TokenGrammar(), // 2 MCUs of 6 blocks, RST after each
        "fashion-mnist-grey" => Resized(JpegProfile.FashionMnist(), 16, 40).TokenGrammar(), // 10 intervals: RST0..7 wrap
        _ => JpegProfile.Standard("g", 24, 8, 25, JpegProfile.Grey, 0).TokenGrammar(), // 3 MCUs in one interval
    };

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Every_reachable_state_can_be_completed_and_its_shortest_completion_is_exact(string profile)
    {
        JpegScanGrammar g = Grammar(profile);
        var sw = Stopwatch.StartNew();
        var seen = new Dictionary<(int, int, int, int, int, int, int, int), long>();
        var queue = new Queue<JpegScanState>();
        var start = new JpegScanState(g);
        seen[start.Key] = start.ShortestCompletion();
        queue.Enqueue(start);
        Span<ulong> mask = stackalloc ulong[4];
        int complete = 0, lateK = 0, afterZrlLate = 0, stuffing = 0, markers = 0, lastMcu = 0, bellman = 0;
        while (queue.Count > 0)
        {
            JpegScanState s = queue.Dequeue();
            long shortest = seen[s.Key];
            Assert.False(s.IsFailed);
            Assert.True(shortest >= 0, $"state {s.Key} is not failed but has no completion");
            Assert.Equal(s.IsComplete, shortest == 0);
            s.FillAllowedMask(mask);
            (int interval, int mcu, _, int k, _, _, _, int flags) = s.Key;
            complete += s.IsComplete ? 1 : 0;
            lateK += k >= 48 ? 1 : 0;
            afterZrlLate += (flags & 32) != 0 && k >= 48 ? 1 : 0;
            stuffing += (flags & 16) != 0 ? 1 : 0;
            markers += (flags & 7) is 3 or 4 ? 1 : 0;
            lastMcu += interval == g.IntervalCount - 1 && mcu == g.McusIn(interval) - 1 ? 1 : 0;
            long best = long.MaxValue;
            for (int b = 0; b < 256; b++)
            {
                JpegScanState next = s;
                bool ok = next.Consume((byte)b);
                Assert.Equal(ok, (mask[b >> 6] & (1UL << (b & 63))) != 0);
                if (!ok)
                {
                    continue;
                }

                if (!seen.TryGetValue(next.Key, out long n))
                {
                    n = next.ShortestCompletion();
                    seen[next.Key] = n;
                    queue.Enqueue(next);
                }

                best = Math.Min(best, n);
            }

            // The definition: one byte more than the best next state (none after a complete stream).
            Assert.Equal(s.IsComplete ? long.MaxValue : shortest - 1, best);
            bellman++;
        }

        output.WriteLine($"{profile}: {seen.Count} states in {sw.Elapsed.TotalSeconds:F1} s; k>=48: {lateK}, after a ZRL at k>=48: {afterZrlLate}, " +
            $"FF awaiting 00: {stuffing}, marker bytes due: {markers}, in the last MCU: {lastMcu}, complete: {complete}; " +
            $"shortest from the start {start.ShortestCompletion()} bytes");
        Assert.Equal(1, complete);
        Assert.True(lateK > 0 && afterZrlLate > 0 && stuffing > 0 && markers > 0 && lastMcu > 0);
        Assert.Equal(seen.Count, bellman);
    }

    [Fact]
    public void Shortest_completion_of_a_real_stream_falls_by_at_most_its_length_and_is_zero_at_the_end()
    {
        byte[] file = File.ReadAllBytes(TestSupport.TestPaths.Data("tokens", "paper-1.jpg"));
        JpegProfile paper = JpegProfile.Paper();
        byte[] tokens = paper.ToTokenBytes(file);
        var s = new JpegScanState(paper.TokenGrammar());
        long previous = s.ShortestCompletion();
        Assert.True(previous < tokens.Length);
        foreach (byte b in tokens)
        {
            Assert.True(s.Consume(b));
            long now = s.ShortestCompletion();
            Assert.True(now >= previous - 1, "a byte can shorten the rest by one at most");
            Assert.True(now <= s.ShortestCompletionBound());
            previous = now;
        }

        Assert.Equal(0, previous);
    }

    private static JpegProfile Resized(JpegProfile p, int width, int height) => new()
    {
        Name = p.Name, Width = width, Height = height, Quality = p.Quality, Subsampling = p.Subsampling,
        RestartInterval = p.RestartInterval, QuantizationTables = p.QuantizationTables, HuffmanTables = p.HuffmanTables,
    };
}
