using JpegLm.Engine.Kernels;

namespace JpegLm.Engine.Model;

/// <summary>
/// A model directory in the Hugging Face layout: <c>config.json</c> (LlamaConfig fields) and
/// <c>model.safetensors</c> (tensor names as in <c>LlamaForCausalLM</c>, linear weights <c>[out, in]</c>).
/// Any HF Llama checkpoint in one safetensors file loads (F32, F16 or BF16 tensors, converted to float32).
/// </summary>
public static class HfCheckpoint
{
    /// <summary>File name of the config.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>File name of the weights.</summary>
    public const string WeightsFile = "model.safetensors";

    /// <summary>Writes config.json and model.safetensors into <paramref name="directory"/>, each atomically.</summary>
    public static void Save(LlamaModel model, string directory, string dtype = "F32")
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        float[] host = new float[model.Layout.Length];
        model.Kernels.Download(model.Weights, host);
        var tensors = model.Layout.Tensors
            .Select(p => (p.Name, p.Shape.Select(d => (long)d).ToArray(), (ReadOnlyMemory<float>)host.AsMemory((int)p.Offset, (int)p.Length)));
        SafetensorsFile.Write(Path.Combine(directory, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" }, dtype);
        string configPath = Path.Combine(directory, ConfigFile);
        LlamaConfig config = model.Config with { TorchDtype = dtype switch { "F16" => "float16", "BF16" => "bfloat16", _ => "float32" } };
        Codec.IO.AtomicFile.WriteAllText(configPath, config.ToJson());
    }

    /// <summary>Loads a model directory onto <paramref name="kernels"/>.</summary>
    public static LlamaModel Load(string directory, IKernels kernels)
    {
        LlamaConfig config = LlamaConfig.Load(Path.Combine(directory, ConfigFile));
        var model = new LlamaModel(config, kernels);
        try
        {
            LoadWeights(model, Path.Combine(directory, WeightsFile));
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Fills <paramref name="model"/>'s weights from a safetensors file with HF names.</summary>
    public static void LoadWeights(LlamaModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        using SafetensorsFile file = SafetensorsFile.Open(path);
        string? bias = file.Entries.Keys.FirstOrDefault(name => name.EndsWith(".bias", StringComparison.Ordinal));
        if (bias != null)
        {
            throw new SafetensorsFormatException($"{path}: tensor {bias}: biases are not part of a Llama model");
        }

        float[] host = new float[model.Layout.Length];
        foreach (ParameterTensor p in model.Layout.Tensors)
        {
            if (!file.Entries.TryGetValue(p.Name, out SafetensorsEntry? entry))
            {
                throw new SafetensorsFormatException($"{path}: tensor {p.Name} is missing");
            }

            if (!entry.Shape.SequenceEqual(p.Shape.Select(d => (long)d)))
            {
                throw new SafetensorsFormatException($"{path}: tensor {p.Name} has shape [{string.Join(", ", entry.Shape)}], config needs [{string.Join(", ", p.Shape)}]");
            }

            file.Read(p.Name, host.AsSpan((int)p.Offset, (int)p.Length));
        }

        model.Kernels.Upload(host, model.Weights);
    }
}
