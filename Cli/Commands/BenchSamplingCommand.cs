using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using JpegLm.Cli.Pipeline;
using JpegLm.Codec.Avc;
using JpegLm.Codec.Avc.Encoder;
using JpegLm.Codec.Avc.Grammar;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm bench sampling</c>: what grammar-constrained sampling costs per generated token against unconstrained
/// sampling of the same model, batch and seed, for JPEG (the committed Fashion-MNIST model) and H.264 (a randomly
/// initialised model over a vocabulary learned from synthetic clips; speed hardly depends on the weights). The two
/// paths alternate, every repetition draws the same tokens, and each unconstrained sample is held to the length of
/// the constrained sample with its index (EOS only at that position), so both decode the same rows for the same
/// steps: the ratio is the grammar's cost, not a difference in sample lengths. Medians are reported with a split of
/// the time into forward passes, the constraint's masks, the rest of choosing and the per-token bookkeeping.
/// </summary>
internal sealed class BenchSamplingCommand : CliCommand
{
    /// <summary>Where the committed Fashion-MNIST model lives, relative to the repository root.</summary>
    private const string FmnistModel = "docs/quality/fmnist/model";

    private readonly Option<string> _codec = CliOptions.Choice("--codec", "both", "which grammar to time", "both", "jpeg", "avc");
    private readonly Option<string?> _jpegModel = CliOptions.Text("--jpeg-model", "RUN", $"JPEG run folder (default: {FmnistModel} in the current folder or an ancestor)");
    private readonly Option<int> _batch = CliOptions.Number("--batch", 16, 1, 4096, "samples decoded together");
    private readonly Option<int> _repeats = CliOptions.Number("--repeats", 5, 1, 100, "timed repetitions of each path; medians are reported");
    private readonly Option<int?> _maxTokens = CliOptions.OptionalNumber("--max-tokens", 16, 1 << 20, "new tokens per sample at most (default: what `jpeglm sample` uses for the run's profile)");
    private readonly Option<int> _avcVocab = CliOptions.Number("--avc-vocab", 512, BpeVocabulary.FirstMerge, BpeTrainer.MaxVocabularySize, "vocabulary size of the H.264 model");
    private readonly Option<ulong> _seed = CliOptions.Number("--seed", 1UL, 0UL, ulong.MaxValue, "sampling seed (every repetition uses it)");

    public BenchSamplingCommand()
        : base("sampling", "cost of grammar-constrained sampling per token against unconstrained sampling", """
            Prints, per codec, ms per generated token of unconstrained and constrained sampling (the `small` preset,
            6 x 256; the medians of --repeats runs of --batch samples from BOS; each unconstrained sample held to
            the length of its constrained twin): in the decoding steps (the forward passes, with the masks computed
            alongside, the wait for masks, choosing, advancing) and in wall time with the batch's set-up, how many constrained samples finished and are valid, and the
            ratios constrained / unconstrained.
            Examples:
              jpeglm bench sampling
              jpeglm bench sampling --codec avc --max-tokens 512   # a cap the samples come close to: the budget rule works throughout
            """)
    {
        Add(_codec, _jpegModel, _batch, _repeats, _maxTokens, _avcVocab, _seed);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string codec = parsed.Value(_codec);
        int batch = parsed.Value(_batch), repeats = parsed.Value(_repeats);
        ulong seed = parsed.Value(_seed);
        stdout.WriteLine(F($"bench-sampling {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load {LoadAverage()}, batch {batch}, {repeats} repetitions, seed {seed}"));
        stdout.WriteLine("| codec | path | tokens | ms/token: steps | wall | CPU | forward | masks (overlapped) | mask wait | choose | advance | finished | valid |");
        stdout.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        var ratios = new List<string>();
        if (codec is "both" or "jpeg")
        {
            string path = parsed.GetValue(_jpegModel) ?? FindUp(FmnistModel) ?? throw new UsageException($"no {FmnistModel} here or above; give --jpeg-model RUN");
            using var session = new JpegSamplingSession(path, "cpu", TextWriter.Null);
            var table = JpegGrammarConstraint.BuildTokenTable(session.Vocabulary);
            var options = new SamplingOptions { Samples = batch, Seed = seed, MaxNewTokens = parsed.GetValue(_maxTokens) ?? session.DefaultMaxTokens, EosTokenId = BpeVocabulary.Eos };
            bool Valid(int[] tokens) => JpegTokenStreams.Check(JpegTokenStreams.ToFullFile(session.Profile, session.Vocabulary.Decode(Body(tokens)))).Valid;
            ratios.Add(Measure("JPEG", session.Model, options, () => new JpegGrammarConstraint(table, session.Grammar), session.Annotators, Valid, repeats, stdout)
                + CacheLine(table.CacheCounts));
        }

        if (codec is "both" or "avc")
        {
            (AvcProfile profile, BpeVocabulary vocabulary) = SyntheticVideoVocabulary(parsed.Value(_avcVocab));
            int cap = parsed.GetValue(_maxTokens) ?? AvcSamplingSession.DefaultMaxTokensFor(profile);
            LlamaConfig config = ModelPresets.Resolve("small", vocabulary.Size, BpeVocabulary.Bos, BpeVocabulary.Eos, cap + 1);
            using var kernels = new CpuKernels();
            using var model = new LlamaModel(config, kernels);
            model.InitializeWeights(1);
            var table = AvcStreamConstraint.BuildTokenTable(vocabulary);
            var grammar = new AvcStreamGrammar(profile, 1, profile.Frames);
            var options = new SamplingOptions { Samples = batch, Seed = seed, MaxNewTokens = cap, EosTokenId = BpeVocabulary.Eos };
            bool Valid(int[] tokens) => AvcStreamChecker.Check(new MemoryStream(profile.FromTokenBytes(vocabulary.Decode(Body(tokens))))).Valid;
            ratios.Add(Measure("H.264", model, options, () => new AvcStreamConstraint(table, grammar), null, Valid, repeats, stdout)
                + CacheLine(table.CacheCounts));
        }

        stdout.WriteLine();
        foreach (string line in ratios)
        {
            stdout.WriteLine(line);
        }

        return 0;
    }

    // Times both paths, alternating, and prints a row each; returns the ratio line.
    private static string Measure(string codec, LlamaModel model, SamplingOptions options, Func<ITokenConstraint> rule, Func<ITokenAnnotator>? notes,
        Func<int[], bool> valid, int repeats, TextWriter stdout)
    {
        var sampler = new Sampler(model);
        var mask = new Stopwatch();
        ITokenConstraint Timed() => new TimedConstraint(rule(), mask);
        int[] prompt = [BpeVocabulary.Bos];
        sampler.Generate(prompt, options with { MaxNewTokens = 8 }, () => new FixedLength(prompt.Length + 8), notes); // warm-up: JIT, first-use tables
        sampler.Generate(prompt, options with { MaxNewTokens = 8 }, Timed, notes);
        var runs = new Dictionary<bool, List<Timing>> { [false] = [], [true] = [] };
        int finished = 0, validCount = 0;
        for (int r = 0; r < repeats; r++)
        {
            // Constrained first: its samples' lengths are the ones the unconstrained run then keeps to, so both paths
            // decode the same number of rows for the same number of steps and differ only in how tokens are chosen.
            int[] lengths = [];
            foreach (bool constrained in new[] { true, false })
            {
                sampler.Times.Reset();
                mask.Reset();
                int next = 0;
                Func<ITokenConstraint> rules = constrained ? Timed : () => new FixedLength(prompt.Length + lengths[next++]);
                TimeSpan cpu0 = CpuTime();
                var clock = Stopwatch.StartNew();
                IReadOnlyList<SampleResult> results = sampler.Generate(prompt, options, rules, notes);
                double seconds = clock.Elapsed.TotalSeconds, cpu = (CpuTime() - cpu0).TotalSeconds;
                long tokens = results.Sum(x => (long)x.Tokens.Length);
                SamplerTimes t = sampler.Times;
                double per = 1000.0 / tokens;
                runs[constrained].Add(new Timing(seconds * per, cpu * per, t.Decoding.TotalSeconds * per, tokens, t.Forward.TotalSeconds * per, mask.Elapsed.TotalSeconds * per,
                    t.MaskWait.TotalSeconds * per, t.Choose.TotalSeconds * per, t.Advance.TotalSeconds * per));
                if (!constrained && !results.Select(x => x.Tokens.Length).SequenceEqual(lengths))
                {
                    stdout.WriteLine($"note: {codec} lengths differ: {string.Join(',', lengths)} vs {string.Join(',', results.Select(x => x.Tokens.Length))}");
                }

                if (constrained)
                {
                    lengths = [.. results.Select(x => x.Tokens.Length)];
                    if (r == 0)
                    {
                        finished = results.Count(x => x.Reason == FinishReason.EndOfSequence);
                        validCount = results.Count(x => valid(x.Tokens));
                    }
                }
            }
        }

        foreach (bool constrained in new[] { false, true })
        {
            List<Timing> list = runs[constrained];
            double Med(Func<Timing, double> f) => Median([.. list.Select(f)]);
            string done = constrained ? F($"{finished}/{options.Samples}") : "-";
            string ok = constrained ? F($"{validCount}/{options.Samples}") : "-";
            stdout.WriteLine(F($"| {codec} | {(constrained ? "constrained" : "unconstrained")} | {list[0].Tokens} | {Med(x => x.Steps):F3} | {Med(x => x.Wall):F3} | {Med(x => x.Cpu):F3} | {Med(x => x.Forward):F3} | {Med(x => x.Mask):F3} | {Med(x => x.MaskWait):F3} | {Med(x => x.Choose):F3} | {Med(x => x.Advance):F3} | {done} | {ok} |"));
        }

        // The headline is the decoding steps: the batch's set-up (the KV cache for every position up to the cap, the
        // prompt) is the same work in both paths, and allocating the cache swings with the machine's memory load.
        // The ratio of each repetition's pair is given too: a pair's runs are adjacent, so drifting load cancels more.
        double Ratio(Func<Timing, double> f) => Median([.. runs[true].Select(f)]) / Median([.. runs[false].Select(f)]);
        double pairs = Median([.. runs[true].Zip(runs[false], (c, u) => c.Steps / u.Steps)]);
        return F($"{codec}: constrained / unconstrained per token = {Ratio(x => x.Steps):F3}x in decoding steps ({Median([.. runs[true].Select(x => x.Steps)]):F3} vs {Median([.. runs[false].Select(x => x.Steps)]):F3} ms/token, medians of {repeats}; median of the pairs' ratios {pairs:F3}x); {Ratio(x => x.Wall):F3}x in wall time with the set-up; {Ratio(x => x.Cpu):F3}x in the process's CPU time, which other processes on the machine hardly move and which counts the masks in full even where they overlap the forward pass");
    }

    // One timed run, per generated token in ms: wall clock, the decoding steps, and their parts as SamplerTimes splits
    // them (the masks are computed during the forward passes; only the wait for them is on the steps' path).
    private readonly record struct Timing(double Wall, double Cpu, double Steps, long Tokens, double Forward, double Mask, double MaskWait, double Choose, double Advance);

    // A profile with the AVC-LM settings on small frames, and BPE learned on synthetic clips coded under it.
    private static (AvcProfile Profile, BpeVocabulary Vocabulary) SyntheticVideoVocabulary(int vocabularySize)
    {
        AvcProfile profile = AvcProfile.Create("bench-avc-64x64", 64, 64, 3, 6, 37, 3, 1);
        var docs = new List<byte[]>();
        var rng = new SplitMixRandom(7);
        for (int clip = 0; clip < 16; clip++)
        {
            using var stream = new MemoryStream();
            var encoder = new AvcEncoder(profile.Width, profile.Height, profile.EncoderOptions());
            int dx = (int)rng.NextInt64(5) - 2, dy = (int)rng.NextInt64(5) - 2, shade = (int)rng.NextInt64(200);
            for (int f = 0; f < profile.Frames; f++)
            {
                // A drifting gradient with a moving square and some noise: textures and motion for every syntax element.
                var frame = new Yuv420Frame(profile.Width, profile.Height);
                for (int y = 0; y < profile.Height; y++)
                {
                    for (int x = 0; x < profile.Width; x++)
                    {
                        bool square = (uint)(x - 16 - (dx * f * 3)) < 20 && (uint)(y - 20 - (dy * f * 3)) < 20;
                        frame.Y[(y * profile.Width) + x] = (byte)Math.Clamp((square ? shade : (x + y + (f * dx)) * 2) + (int)rng.NextInt64(9) - 4, 0, 255);
                    }
                }

                frame.U.AsSpan().Fill((byte)(100 + (clip * 3)));
                frame.V.AsSpan().Fill((byte)(150 - (clip * 2)));
                encoder.Encode(frame, stream);
            }

            docs.Add(profile.ToTokenBytes(stream.ToArray()));
        }

        return (profile, BpeTrainer.Train(docs, vocabularySize).Vocabulary);
    }

    private static string CacheLine((long Hits, long Misses) counts)
        => F($"; mask cache: {counts.Hits} hits, {counts.Misses} misses ({(double)counts.Hits / Math.Max(1, counts.Hits + counts.Misses):P1} hits, warm-up included)");

    private static int[] Body(int[] tokens) => [.. tokens.Where(t => !BpeVocabulary.IsSpecial(t))];

    private static string? FindUp(string relative)
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relative);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static TimeSpan CpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        return values[values.Length / 2];
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    // Unconstrained sampling held to a given length (prompt included): every token is allowed except EOS, which is the
    // only one at the last position. Leaving the mask untouched costs what the sampler's all-true mask costs without a
    // constraint.
    private sealed class FixedLength(int length) : ITokenConstraint
    {
        private int _seen;

        public void FillAllowed(Span<bool> allowed, int tokensLeft)
        {
            if (_seen + 1 < length)
            {
                allowed[BpeVocabulary.Eos] = false;
                return;
            }

            allowed.Clear();
            allowed[BpeVocabulary.Eos] = true;
        }

        public void Accept(int token) => _seen++;
    }

    // Adds the time the constraint spends computing masks to a clock.
    private sealed class TimedConstraint(ITokenConstraint inner, Stopwatch clock) : ITokenConstraint
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
