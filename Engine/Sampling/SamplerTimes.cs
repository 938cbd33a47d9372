using System.Diagnostics;

namespace JpegLm.Engine.Sampling;

/// <summary>
/// Where a <see cref="Sampler"/>'s time went, summed over its <see cref="Sampler.Generate"/> calls: the model's
/// forward passes, choosing each token (the constraint's mask and the draw) and advancing the per-sample state
/// (constraint and structure annotator). Benchmarks read it to tell model cost from grammar cost; taking the
/// timestamps costs a few tens of nanoseconds per token, against milliseconds per forward step.
/// </summary>
public sealed class SamplerTimes
{
    private long _forward, _choose, _advance;

    /// <summary>Time in the model's forward passes (prompt and steps).</summary>
    public TimeSpan Forward => Stopwatch.GetElapsedTime(0, _forward);

    /// <summary>Time choosing tokens: the constraint's mask, temperature, truncation and the draw.</summary>
    public TimeSpan Choose => Stopwatch.GetElapsedTime(0, _choose);

    /// <summary>Time after each choice: the log-probability sum, and advancing constraints and structure annotators.</summary>
    public TimeSpan Advance => Stopwatch.GetElapsedTime(0, _advance);

    /// <summary>Tokens generated (EOS included).</summary>
    public long Tokens { get; private set; }

    /// <summary>Starts every sum again at zero.</summary>
    public void Reset()
    {
        _forward = _choose = _advance = 0;
        Tokens = 0;
    }

    internal void AddForward(long since) => _forward += Stopwatch.GetTimestamp() - since;

    internal void AddChoose(long since) => _choose += Stopwatch.GetTimestamp() - since;

    internal void AddAdvance(long since)
    {
        _advance += Stopwatch.GetTimestamp() - since;
        Tokens++;
    }
}
