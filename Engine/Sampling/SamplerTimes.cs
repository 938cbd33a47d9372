using System.Diagnostics;

namespace JpegLm.Engine.Sampling;

/// <summary>
/// Where a <see cref="Sampler"/>'s time went, summed over its <see cref="Sampler.Generate"/> calls: the model's
/// forward passes, the constraints' masks (computed on another thread during the forward passes), the wait for
/// masks not ready when the logits were, choosing each token and advancing the per-sample state (constraint and
/// structure annotator), and the decoding steps' wall time. Benchmarks read it to tell model cost from grammar
/// cost; taking the timestamps costs a few tens of nanoseconds per token, against milliseconds per forward step.
/// </summary>
public sealed class SamplerTimes
{
    private long _forward, _masks, _maskWait, _choose, _advance, _decoding;

    /// <summary>Time in the model's forward passes (prompt and steps).</summary>
    public TimeSpan Forward => Stopwatch.GetElapsedTime(0, _forward);

    /// <summary>Time the constraints spent filling masks, on the thread that overlaps them with the forward passes.</summary>
    public TimeSpan Masks => Stopwatch.GetElapsedTime(0, _masks);

    /// <summary>Time the decoding waited for masks after the logits were ready: the part of the grammar not hidden.</summary>
    public TimeSpan MaskWait => Stopwatch.GetElapsedTime(0, _maskWait);

    /// <summary>Wall time of the decoding steps, from the first choice on (the set-up and the prompt's forward pass excluded).</summary>
    public TimeSpan Decoding => Stopwatch.GetElapsedTime(0, _decoding);

    /// <summary>Time choosing tokens among the allowed ones: temperature, truncation and the draw.</summary>
    public TimeSpan Choose => Stopwatch.GetElapsedTime(0, _choose);

    /// <summary>Time after each choice: the log-probability sum, and advancing constraints and structure annotators.</summary>
    public TimeSpan Advance => Stopwatch.GetElapsedTime(0, _advance);

    /// <summary>Tokens generated (EOS included).</summary>
    public long Tokens { get; private set; }

    /// <summary>Starts every sum again at zero.</summary>
    public void Reset()
    {
        _forward = _masks = _maskWait = _choose = _advance = _decoding = 0;
        Tokens = 0;
    }

    internal void AddForward(long since) => _forward += Stopwatch.GetTimestamp() - since;

    internal void AddMasks(long since) => Interlocked.Add(ref _masks, Stopwatch.GetTimestamp() - since);

    internal void AddMaskWait(long since) => _maskWait += Stopwatch.GetTimestamp() - since;

    internal void AddDecoding(long since) => _decoding += Stopwatch.GetTimestamp() - since;

    internal void AddChoose(long since) => _choose += Stopwatch.GetTimestamp() - since;

    internal void AddAdvance(long since)
    {
        _advance += Stopwatch.GetTimestamp() - since;
        Tokens++;
    }
}
