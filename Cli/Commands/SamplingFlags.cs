using System.CommandLine;
using JpegLm.Cli.Pipeline;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Commands;

/// <summary>
/// The sampling options <c>sample</c> and <c>eval</c> share (temperature, top-k, top-p, best-of) and the one rule that
/// turns them into <see cref="SamplingOptions"/>: the run's <c>generation_config.json</c> gives the defaults, an option
/// given on the command line wins. Image and video runs read them the same way.
/// </summary>
internal sealed class SamplingFlags
{
    private static readonly SamplingOptions Defaults = new();

    private readonly Option<float> _temperature = CliOptions.Number("--temperature", Defaults.Temperature, 0f, 100f, "softmax temperature, 0 greedy (default: the run's generation_config.json, else 1)", "T");
    private readonly Option<int> _topK = CliOptions.Number("--top-k", Defaults.TopK, 0, int.MaxValue, "keep the K most likely tokens, 0 all (default: the run's generation_config.json, else 0)", "K");
    private readonly Option<float> _topP = CliOptions.Number("--top-p", Defaults.TopP, 1e-6f, 1f, "nucleus sampling, 1 all (default: the run's generation_config.json, else 1)", "P");
    private readonly Option<int> _bestOf = CliOptions.Number("--best-of", Defaults.BestOf, 1, 1024, "draw N candidates per sample and keep the one the model finds most likely (default: the run's generation_config.json, else 1)", "N");

    /// <summary>The options, in the order help lists them, for the command's <c>Add</c>.</summary>
    public Option[] Options => [_temperature, _topK, _topP, _bestOf];

    /// <summary>
    /// The run's settings for prompted (completion) or unconditional sampling, with the options given on the command
    /// line in their place, and <paramref name="seed"/>.
    /// </summary>
    public SamplingOptions Resolve(ParseResult parsed, string runPath, ulong seed, bool prompted) =>
        GenerationConfig.Load(runPath).Resolve(prompted,
            parsed.IsGiven(_temperature) ? parsed.Value(_temperature) : null,
            parsed.IsGiven(_topK) ? parsed.Value(_topK) : null,
            parsed.IsGiven(_topP) ? parsed.Value(_topP) : null,
            parsed.IsGiven(_bestOf) ? parsed.Value(_bestOf) : null) with { Seed = seed };
}
