using System.Text.Json;
using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;
using JpegLm.TestSupport;
using static JpegLm.Cli.Tests.CliRun;

namespace JpegLm.Cli.Tests.Commands;

public class ScoreCommandTests
{
    private static string TinyModelDirectory()
    {
        string dir = TestPaths.NewTempDirectory();
        var config = new LlamaConfig { HiddenSize = 16, IntermediateSize = 24, NumHiddenLayers = 2, NumAttentionHeads = 2, VocabSize = 20, MaxPositionEmbeddings = 32, InitializerRange = 0.4f };
        using var model = new LlamaModel(config, new CpuKernels());
        model.InitializeWeights(3);
        HfCheckpoint.Save(model, dir, "BF16");
        return dir;
    }

    [Fact]
    public void Json_output_has_the_documented_shape_and_normalized_log_probabilities()
    {
        string dir = TinyModelDirectory();
        (int code, string output, _) = Run("score", "--model", dir, "--tokens", "1,5,7,19,0,3", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        Assert.Equal(["tokens", "meanNll", "logprobs"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(6, root.GetProperty("tokens").GetInt32());
        double[] logprobs = [.. root.GetProperty("logprobs").EnumerateArray().Select(x => x.GetDouble())];
        Assert.Equal(5, logprobs.Length);
        Assert.All(logprobs, lp => Assert.True(lp < 0));
        Assert.Equal(-logprobs.Average(), root.GetProperty("meanNll").GetDouble(), 5);

        // --device picks the backend; on the CPU it is the same computation as the default on a machine without a GPU.
        (int cpuCode, string cpuOutput, _) = Run("score", "--model", dir, "--tokens", "1,5,7,19,0,3", "--json", "--device", "cpu");
        Assert.Equal(0, cpuCode);
        Assert.Equal(output, cpuOutput);

        // Log-probabilities of all 20 possible second tokens after token 1 must sum to probability 1.
        double total = 0;
        for (int t = 0; t < 20; t++)
        {
            (_, string o, _) = Run("score", "--model", dir, "--tokens", $"1,{t}", "--json");
            using var d = JsonDocument.Parse(o);
            total += Math.Exp(d.RootElement.GetProperty("logprobs")[0].GetDouble());
        }

        Assert.Equal(1.0, total, 5);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Bad_tokens_and_missing_models_give_the_documented_exit_codes()
    {
        string dir = TinyModelDirectory();
        Assert.Equal(2, Run("score", "--model", dir, "--tokens", "1,x").Code);
        Assert.Equal(2, Run("score", "--model", dir, "--tokens", "1").Code);
        (int code, _, string err) = Run("score", "--model", dir, "--tokens", "1,20");
        Assert.Equal(1, code);
        Assert.Contains("index 1", err, StringComparison.Ordinal);
        Assert.Equal(1, Run("score", "--model", Path.Combine(dir, "nope"), "--tokens", "1,2").Code);
        (code, string text, _) = Run("score", "--model", dir, "--tokens", "1,2,3");
        Assert.Equal(0, code);
        Assert.Contains("mean NLL", text, StringComparison.Ordinal);
        Directory.Delete(dir, true);
    }
}
