using System.Security.Cryptography;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;

namespace JpegLm.Cli.Tests;

/// <summary>
/// Small training runs for the tests that start real <c>jpeglm train</c> processes (mpirun ranks, signals): the data,
/// the command line, and what two runs that compute the same bits must share.
/// </summary>
internal static class TrainingRuns
{
    /// <summary>The host that runs jpeglm.dll (the one running the tests when the SDK names it).</summary>
    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>The CLI assembly the test project builds against.</summary>
    public static string JpeglmDll => typeof(Program).Assembly.Location;

    /// <summary>Prepares the e2e images (32x32, 4:2:0, q50, 300 merges) into <c>DIR/data</c> and a 2 x 32 model config into <c>DIR/config.json</c>.</summary>
    public static string PrepareData(string dir)
    {
        string data = Path.Combine(dir, "data"), profile = Path.Combine(dir, "profile.json");
        JpegProfile.Standard("dp-32-q50-420", 32, 32, 50, "4:2:0", 1).Save(profile);
        Assert.Equal(0, Program.Run(["prepare", "--input", TestPaths.Data("e2e", "images"), "--output", data, "--profile", profile, "--merges", "300", "--val-fraction", "0.1"],
            new StringWriter(), new StringWriter()));
        string config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, """{"hidden_size":32,"intermediate_size":86,"num_hidden_layers":2,"num_attention_heads":4,"max_position_embeddings":128}""");
        return dir;
    }

    /// <summary>The arguments of <c>jpeglm train</c> on <see cref="PrepareData"/>'s folder, into <c>DIR/RUN</c>, on the CPU.</summary>
    public static string[] Train(string dir, string run, int steps, int batchTokens, int checkpointEvery, params string[] more) =>
    [
        "train", "--data", Path.Combine(dir, "data"), "--model-config", Path.Combine(dir, "config.json"), "--out", Path.Combine(dir, run), "--device", "cpu",
        "--steps", steps.ToString(), "--batch-tokens", batchTokens.ToString(), "--context", "64", "--lr", "3e-3", "--warmup", "2", "--val-every", "4",
        "--checkpoint-every", checkpointEvery.ToString(), "--seed", "3", .. more,
    ];

    /// <summary>SHA-256 of one file of a run folder.</summary>
    public static string Hash(string dir, string run, string file) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(dir, run, file))));

    /// <summary>loss.csv without the columns that depend on timing (tokens/s, FLOP/s, MFU): everything else must not differ.</summary>
    public static string[] Losses(string dir, string run)
    {
        string[] lines = File.ReadAllLines(Path.Combine(dir, run, "loss.csv"));
        bool[] keep = [.. lines[0].Split(',').Select(column => !LossLog.TimingColumns.Contains(column))];
        return [.. lines.Select(l => string.Join(',', l.Split(',').Where((_, i) => keep[i])))];
    }
}
