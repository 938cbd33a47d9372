using JpegLm.Engine.Sampling;

namespace JpegLm.Engine.Tests.Sampling;

public class PromptHealingTests
{
    // Token i spells these bytes; 5 is a merge that spans a cut after "FF D7".
    private static readonly byte[][] Bytes = [[], [0xFF], [0xD7], [0xE7], [0xEB], [0xFF, 0xD7, 0xE7, 0xEB], [0xFF, 0xD7]];

    [Fact]
    public void The_last_tokens_are_taken_back_until_enough_bytes_are_forced()
    {
        (int keep, byte[] forced) = PromptHealing.Split([3, 4, 3, 4, 6], id => Bytes[id], minimumBytes: 3);
        Assert.Equal(3, keep); // 6 (2 bytes) and 4 (1 byte) taken back
        Assert.Equal(new byte[] { 0xEB, 0xFF, 0xD7 }, forced);
        (int none, byte[] nothing) = PromptHealing.Split([], id => Bytes[id]);
        Assert.Equal(0, none);
        Assert.Empty(nothing);
    }

    [Fact]
    public void Forced_bytes_admit_prefixes_and_tokens_that_run_past_them_then_defer_to_the_inner_rule()
    {
        var rule = new ForcedBytesConstraint(null, [0xFF, 0xD7], Bytes);
        bool[] allowed = new bool[Bytes.Length];
        Array.Fill(allowed, true);
        rule.FillAllowed(allowed, 100);
        Assert.Equal([false, true, false, false, false, true, true], allowed); // FF, FF D7 E7 EB, FF D7
        rule.Accept(1);
        Array.Fill(allowed, true);
        rule.FillAllowed(allowed, 100);
        Assert.Equal([false, false, true, false, false, false, false], allowed); // only D7 is left to spell
        rule.Accept(2);
        Array.Fill(allowed, true);
        rule.FillAllowed(allowed, 100);
        Assert.All(allowed, Assert.True); // spelled: no restriction of its own
    }
}
