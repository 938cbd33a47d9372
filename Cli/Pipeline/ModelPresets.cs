using JpegLm.Engine.Model;

namespace JpegLm.Cli.Pipeline;

/// <summary>Named model sizes for <c>--model-config</c> besides a Hugging Face <c>config.json</c> path.</summary>
internal static class ModelPresets
{
    /// <summary>The names accepted.</summary>
    public const string Names = "tiny (demo: 4 x 128), small (6 x 256), base (8 x 512)";

    /// <summary>Loads a preset by name or a LlamaConfig JSON file, with the vocabulary's size and special ids filled in.</summary>
    public static LlamaConfig Resolve(string nameOrPath, int vocabSize, int bos, int eos, int contextLength)
    {
        LlamaConfig config = nameOrPath switch
        {
            "tiny" => new LlamaConfig { HiddenSize = 128, IntermediateSize = 344, NumHiddenLayers = 4, NumAttentionHeads = 4 },
            "small" => new LlamaConfig { HiddenSize = 256, IntermediateSize = 688, NumHiddenLayers = 6, NumAttentionHeads = 8 },
            "base" => new LlamaConfig { HiddenSize = 512, IntermediateSize = 1376, NumHiddenLayers = 8, NumAttentionHeads = 8 },
            _ when File.Exists(nameOrPath) => LlamaConfig.Load(nameOrPath),
            _ => throw new UsageException($"--model-config: '{nameOrPath}' is neither a preset ({Names}) nor a config.json file"),
        };
        if (config.VocabSize != vocabSize && config.VocabSize != new LlamaConfig().VocabSize && File.Exists(nameOrPath))
        {
            throw new UsageException($"--model-config {nameOrPath}: vocab_size {config.VocabSize} does not match the data's vocabulary of {vocabSize}");
        }

        return config with
        {
            VocabSize = vocabSize,
            BosTokenId = bos,
            EosTokenId = eos,
            MaxPositionEmbeddings = Math.Max(config.MaxPositionEmbeddings, contextLength),
        };
    }
}
