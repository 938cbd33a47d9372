using System.CommandLine;
using System.Globalization;
using JpegLm.Cli.Pipeline;
using JpegLm.Cli.Reporting;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Commands;

/// <summary><c>jpeglm score</c>: per-token log-probabilities of a token sequence under a model.</summary>
internal sealed class ScoreCommand : CliCommand
{
    private readonly Option<string> _model = CliOptions.Required("--model", "DIR", "a folder with config.json and model.safetensors (Hugging Face Llama layout; F32/F16/BF16)");
    private readonly Option<string> _tokens = CliOptions.Required("--tokens", "1,2,3,...", "the token ids, comma-separated (at least two)");
    private readonly Option<string> _device = CliOptions.Device();
    private readonly Option<bool> _json = CliOptions.Flag("--json", """print {"tokens":N,"meanNll":x,"logprobs":[...]} with N the number of tokens given""");

    public ScoreCommand()
        : base("score", "log-probabilities of a token sequence under a model", """
            Prints ln p(tokens[i+1] | tokens[..i]) for every i and the mean NLL in nats.

            Example:
              jpeglm score --model runs/small --tokens 256,17,300,42 --json
              jpeglm score --model runs/small --tokens 256,17,300,42 --device cuda-fp32
            """)
    {
        Add(_model, _tokens, _device, _json);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string dir = parsed.Value(_model);
        string list = parsed.Value(_tokens);
        bool json = parsed.Value(_json);
        int[] tokens = ParseTokens(list);
        if (tokens.Length < 2)
        {
            throw new UsageException("--tokens needs at least two token ids");
        }

        using IKernels kernels = Backends.Open(parsed.Value(_device), stderr); // disposed after the model (a GPU context)
        LlamaModel model;
        try
        {
            model = HfCheckpoint.Load(dir, kernels);
        }
        catch (Exception e) when (e is ArgumentException || Program.IsBadInput(e))
        {
            stderr.WriteLine($"jpeglm score: cannot load model from {dir}: {e.Message}");
            return 1;
        }

        using (model)
        {
            ScoreResult result;
            try
            {
                result = Scorer.Score(model, tokens);
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine($"jpeglm score: {e.Message}");
                return 1;
            }

            if (json)
            {
                stdout.WriteLine(CliJson.Serialize(new ScoreReport(tokens.Length, result.MeanNll, result.LogProbs)));
            }
            else
            {
                stdout.WriteLine("  index   token      logprob");
                for (int i = 0; i < result.LogProbs.Length; i++)
                {
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{i + 1,7} {tokens[i + 1],7} {result.LogProbs[i],12:F6}"));
                }

                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mean NLL {result.MeanNll:F6} nats over {result.LogProbs.Length} tokens"));
            }
        }

        return 0;
    }

    private static int[] ParseTokens(string list)
    {
        string[] parts = list.Split(',', StringSplitOptions.TrimEntries);
        int[] tokens = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out tokens[i]))
            {
                throw new UsageException($"--tokens item {i} ('{parts[i]}') is not a non-negative integer");
            }
        }

        return tokens;
    }
}
