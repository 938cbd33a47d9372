using System.Text.Json;
using System.Text.Json.Serialization;
using JpegLm.Codec.IO;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Pipeline;

/// <summary>
/// A run's recommended sampling settings, in Hugging Face's <c>generation_config.json</c> (same file name and keys, plus
/// <c>jpeglm_best_of</c> and <c>jpeglm_unconditional_temperature</c>): <c>sample</c> and <c>eval</c> start from them, and
/// any option given on the command line wins. So a published model carries the settings its quoted quality was
/// measured with. Two temperatures because the two jobs want different ones: a completion should stay close to its
/// prompt (lower temperature), while unconditional samples need the model's full diversity to cover the data.
/// </summary>
internal sealed record GenerationConfig
{
    /// <summary>File name in the run folder.</summary>
    public const string FileName = "generation_config.json";

    [JsonPropertyName("do_sample")]
    public bool DoSample { get; set; } = true;

    [JsonPropertyName("temperature")]
    public float Temperature { get; set; } = 1f;

    [JsonPropertyName("top_k")]
    public int TopK { get; init; }

    [JsonPropertyName("top_p")]
    public float TopP { get; set; } = 1f;

    [JsonPropertyName("jpeglm_best_of")]
    public int BestOf { get; set; } = 1;

    /// <summary>The temperature of samples without a prompt; null: <see cref="Temperature"/> for both.</summary>
    [JsonPropertyName("jpeglm_unconditional_temperature")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? UnconditionalTemperature { get; init; }

    /// <summary>The run's settings, or the engine's defaults when the run has no such file.</summary>
    /// <exception cref="JsonException">The file is malformed or its values are out of range.</exception>
    public static GenerationConfig Load(string runPath)
    {
        string path = Path.Combine(runPath, FileName);
        if (!File.Exists(path))
        {
            return new GenerationConfig();
        }

        GenerationConfig config = JsonSerializer.Deserialize(File.ReadAllText(path), GenerationConfigJson.Default.GenerationConfig) ?? new GenerationConfig();
        if (config.Temperature is < 0 or > 100 || config.UnconditionalTemperature is < 0 or > 100 || config.TopK < 0 || config.TopP is <= 0 or > 1 || config.BestOf is < 1 or > 1024)
        {
            throw new JsonException($"{path}: temperature, jpeglm_unconditional_temperature, top_k, top_p or jpeglm_best_of out of range");
        }

        return config;
    }

    /// <summary>Writes the file into a run folder (atomically).</summary>
    public void Save(string runPath) => AtomicFile.WriteAllBytes(Path.Combine(runPath, FileName), JsonSerializer.SerializeToUtf8Bytes(this, GenerationConfigJson.Default.GenerationConfig));

    /// <summary>Sampling options with these settings for prompted (completion) or unconditional sampling (greedy when <see cref="DoSample"/> is false).</summary>
    public SamplingOptions ToOptions(bool prompted = true) =>
        new() { Temperature = !DoSample ? 0f : prompted ? Temperature : UnconditionalTemperature ?? Temperature, TopK = TopK, TopP = TopP, BestOf = BestOf };

    /// <summary>
    /// The options of one sampling job: the run's defaults for it, with each setting given on the command line
    /// (non-null here) taking their place.
    /// </summary>
    public SamplingOptions Resolve(bool prompted, float? temperature, int? topK, float? topP, int? bestOf)
    {
        SamplingOptions d = ToOptions(prompted);
        return d with { Temperature = temperature ?? d.Temperature, TopK = topK ?? d.TopK, TopP = topP ?? d.TopP, BestOf = bestOf ?? d.BestOf };
    }
}

/// <summary>
/// Compile-time JSON metadata for <see cref="GenerationConfig"/> (indented): no reflection, so it reads the same ahead-of-time compiled.
/// Properties with a default are <c>set</c>, not <c>init</c>: source-generated metadata would give an init-only
/// property missing from the file default(T) instead of its default (dotnet/runtime#84484).
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(GenerationConfig))]
internal sealed partial class GenerationConfigJson : JsonSerializerContext;
