using System.Globalization;
using JpegLm.Codec.Avc;
using JpegLm.Codec.Tokens;
using Xunit.Abstractions;

namespace JpegLm.Cli.Tests;

/// <summary>
/// Time per token of constrained video sampling, masked (the token grammar) against the backtracking sampler
/// it replaced, on a trained run given by JPEGLM_VIDEO_RUN (skipped without it: a measurement, not a CI check).
/// Example: JPEGLM_VIDEO_RUN=runs/video dotnet test tests/Cli.Tests -c Release --filter VideoSamplerTimingTests
/// </summary>
public class VideoSamplerTimingTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Masking_finishes_every_sample_and_is_timed_against_the_backtracking_sampler()
    {
        // The same model, prompt (BOS) and seeds through both samplers, one sample per call: the masked sampler
        // (the token grammar) and the backtracking one (the validator's probe) that video sampling used before.
        string? runFolder = Environment.GetEnvironmentVariable("JPEGLM_VIDEO_RUN");
        Skip.If(string.IsNullOrEmpty(runFolder), "set JPEGLM_VIDEO_RUN to a video run folder to time the samplers on it");
        using var session = new Pipeline.AvcSamplingSession(runFolder, "cpu", TextWriter.Null);
        var options = new Engine.Sampling.SamplingOptions { MaxNewTokens = int.TryParse(Environment.GetEnvironmentVariable("JPEGLM_VIDEO_MAX_TOKENS"), out int cap) ? cap : 400, EosTokenId = BpeVocabulary.Eos };
        int[] prompt = [BpeVocabulary.Bos];
        Codec.Grammar.GrammarTokenConstraint<Codec.Avc.Grammar.AvcStreamState> table = Engine.Sampling.AvcStreamConstraint.BuildTokenTable(session.Vocabulary);
        var grammar = new Codec.Avc.Grammar.AvcStreamGrammar(session.Profile, 1, session.Profile.Frames);
        var limits = new AvcValidatorOptions { MaxPictures = session.Profile.Frames, MinPictures = 1, MaxNalBytes = 800 + 64 };
        var masked = new Engine.Sampling.Sampler(session.Model);
        var backtracking = new Engine.Sampling.BacktrackingSampler(session.Model);
        long maskedTokens = 0, backTokens = 0, backSteps = 0;
        int maskedDone = 0, backDone = 0;
        var maskedClock = new System.Diagnostics.Stopwatch();
        var backClock = new System.Diagnostics.Stopwatch();
        var maskClock = new System.Diagnostics.Stopwatch();
        var freeClock = new System.Diagnostics.Stopwatch();
        long freeTokens = 0;
        int Samples = int.TryParse(Environment.GetEnvironmentVariable("JPEGLM_VIDEO_SAMPLES"), out int n) ? n : 6;
        for (ulong seed = 1; seed <= (ulong)Samples; seed++)
        {
            maskedClock.Start();
            Engine.Sampling.SampleResult m = masked.Generate(prompt, options with { Seed = seed }, () => new Timed(new Engine.Sampling.AvcStreamConstraint(table, grammar), maskClock))[0];
            maskedClock.Stop();
            maskedTokens += m.Tokens.Length;
            maskedDone += m.Reason == Engine.Sampling.FinishReason.EndOfSequence ? 1 : 0;
            byte[] file = session.Profile.FromTokenBytes(session.Vocabulary.Decode([.. m.Tokens.Where(t => !BpeVocabulary.IsSpecial(t))]));
            Assert.True(AvcStreamChecker.Check(new MemoryStream(file)).Valid);

            freeClock.Start();
            freeTokens += masked.Generate(prompt, options with { Seed = seed, EosTokenId = -1 })[0].Tokens.Length;
            freeClock.Stop();

            backClock.Start();
            var rule = new Engine.Sampling.AvcGrammarConstraint(session.Vocabulary, session.Profile.FromTokenBytes([]), limits);
            Engine.Sampling.SampleResult b = backtracking.Generate(prompt, options with { Seed = seed }, rule);
            backClock.Stop();
            backTokens += b.Tokens.Length;
            backSteps += b.Tokens.Length + backtracking.Rejections + backtracking.Backtracks;
            backDone += b.Reason == Engine.Sampling.FinishReason.EndOfSequence ? 1 : 0;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"masked: {maskedDone}/{Samples} finished, {maskedTokens} tokens in {maskedClock.Elapsed.TotalSeconds:F2} s = {maskedClock.Elapsed.TotalMilliseconds / Math.Max(1, maskedTokens):F2} ms/token"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"backtracking: {backDone}/{Samples} finished, {backTokens} tokens kept ({backSteps} proposals) in {backClock.Elapsed.TotalSeconds:F2} s = {backClock.Elapsed.TotalMilliseconds / Math.Max(1, backTokens):F2} ms/kept token"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"of which computing masks: {maskClock.Elapsed.TotalMilliseconds / Math.Max(1, maskedTokens):F2} ms/token; unconstrained sampling (no EOS, to the cap): {freeTokens} tokens = {freeClock.Elapsed.TotalMilliseconds / Math.Max(1, freeTokens):F2} ms/token"));
        Assert.Equal(Samples, maskedDone);
    }

    // Adds the time spent in FillAllowed to a clock.
    private sealed class Timed(Engine.Sampling.ITokenConstraint inner, System.Diagnostics.Stopwatch clock) : Engine.Sampling.ITokenConstraint
    {
        public void FillAllowed(Span<bool> allowed, int tokensLeft)
        {
            clock.Start();
            inner.FillAllowed(allowed, tokensLeft);
            clock.Stop();
        }

        public void Accept(int token) => inner.Accept(token);
    }

}
