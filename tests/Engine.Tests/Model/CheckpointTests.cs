using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;
using JpegLm.TestSupport;
using static JpegLm.Engine.Tests.GradientCheck;

namespace JpegLm.Engine.Tests.Model;

public class CheckpointTests
{
    private static readonly int[] Tokens = [1, 5, 2, 9, 0, 3, 3, 7];

    private static float[] Logits(LlamaModel model)
    {
        model.Forward(Tokens, default, 1, Tokens.Length);
        return Get(model.Kernels, model.Logits);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Save_then_load_gives_identical_weights_and_logits(bool tied)
    {
        string dir = TestPaths.NewTempDirectory();
        using var model = new LlamaModel(LlamaModelTests.Tiny(tied, 2), new CpuKernels());
        model.InitializeWeights(3);
        HfCheckpoint.Save(model, dir);
        Assert.False(Directory.EnumerateFiles(dir, "*.tmp").Any());
        using var loaded = HfCheckpoint.Load(dir, new CpuKernels());
        Assert.Equal(model.Config with { TorchDtype = "float32" }, loaded.Config with { Architectures = model.Config.Architectures });
        Assert.Equal(Get(model.Kernels, model.Weights), Get(loaded.Kernels, loaded.Weights));
        Assert.Equal(Logits(model), Logits(loaded));
        using (SafetensorsFile file = SafetensorsFile.Open(Path.Combine(dir, HfCheckpoint.WeightsFile)))
        {
            Assert.Equal(tied, !file.Entries.ContainsKey("lm_head.weight"));
            Assert.Equal([model.Config.KvWidth, 8], file.Entries["model.layers.1.self_attn.v_proj.weight"].Shape);
        }

        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData("BF16")]
    [InlineData("F16")]
    public void Half_precision_hf_checkpoints_load_to_the_rounded_weights(string dtype)
    {
        string dir = TestPaths.NewTempDirectory();
        using var model = new LlamaModel(LlamaModelTests.Tiny(), new CpuKernels());
        model.InitializeWeights(4);
        HfCheckpoint.Save(model, dir, dtype);
        Assert.Contains(dtype == "BF16" ? "bfloat16" : "float16", File.ReadAllText(Path.Combine(dir, "config.json")), StringComparison.Ordinal);

        // The expected weights: float32 rounded to the half type by an independent route.
        float[] w = Get(model.Kernels, model.Weights);
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = dtype == "F16" ? (float)(Half)w[i] : BFloat16RoundTrip(w[i]);
        }

        model.Kernels.Upload(w, model.Weights);
        using var loaded = HfCheckpoint.Load(dir, new CpuKernels());
        Assert.Equal(w, Get(loaded.Kernels, loaded.Weights));
        Assert.Equal(Logits(model), Logits(loaded));
        Directory.Delete(dir, true);
    }

    private static float BFloat16RoundTrip(float x)
    {
        // Round half to even on the top 16 bits, via double arithmetic rather than bit tricks.
        int exponent = Math.ILogB(x);
        double ulp = Math.ScaleB(1.0, exponent - 7);
        return (float)(Math.Round(x / ulp, MidpointRounding.ToEven) * ulp);
    }

    [Fact]
    public void Hugging_face_config_fields_parse_and_unsupported_variants_are_refused()
    {
        const string json = """
            {"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":172,"num_hidden_layers":2,
             "num_attention_heads":4,"num_key_value_heads":2,"rms_norm_eps":1e-05,"rope_theta":500000.0,"vocab_size":300,
             "max_position_embeddings":2048,"tie_word_embeddings":true,"model_type":"llama","torch_dtype":"bfloat16",
             "hidden_act":"silu","rope_scaling":null,"bos_token_id":1,"eos_token_id":2}
            """;
        LlamaConfig c = LlamaConfig.FromJson(json);
        Assert.Equal((64, 172, 2, 4, 2, 16, 300, 2048, true, 2), (c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.KvHeads, c.HeadDim, c.VocabSize, c.MaxPositionEmbeddings, c.TieWordEmbeddings, c.EosTokenId));
        Assert.Equal(1e-5f, c.RmsNormEps);
        Assert.Equal(500000f, c.RopeTheta);
        Assert.Equal(c, LlamaConfig.FromJson(c.ToJson()) with { RopeScaling = c.RopeScaling, Architectures = c.Architectures });
        Assert.Throws<FormatException>(() => LlamaConfig.FromJson(json.Replace("\"rope_scaling\":null", "\"rope_scaling\":{\"type\":\"linear\",\"factor\":2.0}", StringComparison.Ordinal)));
        Assert.Throws<FormatException>(() => LlamaConfig.FromJson(json.Replace("\"num_key_value_heads\":2", "\"num_key_value_heads\":3", StringComparison.Ordinal)));
    }

    [Fact]
    public void Keys_missing_from_a_config_keep_their_defaults()
    {
        // A minimal HF config: everything not given (eps, rope theta, dtype, ...) must keep its default, not become 0.
        LlamaConfig c = LlamaConfig.FromJson("""{"hidden_size":64,"intermediate_size":172,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":300}""");
        var d = new LlamaConfig();
        Assert.Equal((d.RmsNormEps, d.RopeTheta, d.MaxPositionEmbeddings, d.InitializerRange, d.ModelType, d.TorchDtype), (c.RmsNormEps, c.RopeTheta, c.MaxPositionEmbeddings, c.InitializerRange, c.ModelType, c.TorchDtype));
        Assert.Equal(d.Architectures, c.Architectures);
        Assert.Equal(4, c.KvHeads);
    }

    [Fact]
    public void Malformed_safetensors_files_are_rejected_with_a_position()
    {
        string dir = TestPaths.NewTempDirectory();
        string path = Path.Combine(dir, "bad.safetensors");
        File.WriteAllBytes(path, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x7B]);
        Assert.Contains("byte 0", Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path)).Message, StringComparison.Ordinal);
        byte[] header = System.Text.Encoding.UTF8.GetBytes("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((long)header.Length), .. header, 1, 2, 3]);
        Assert.Contains("tensor x", Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path)).Message, StringComparison.Ordinal);
        Directory.Delete(dir, true);
    }
}
