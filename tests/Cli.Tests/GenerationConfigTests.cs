using System.Text.Json;
using JpegLm.Cli.Pipeline;
using JpegLm.TestSupport;

namespace JpegLm.Cli.Tests;

public class GenerationConfigTests
{
    [Fact]
    public void A_run_without_the_file_samples_with_the_engine_defaults_and_a_saved_file_round_trips()
    {
        string run = TestPaths.NewTempDirectory();
        Assert.Equal(new Engine.Sampling.SamplingOptions(), GenerationConfig.Load(run).ToOptions());
        new GenerationConfig { Temperature = 0.7f, TopK = 40, BestOf = 4 }.Save(run);
        var options = GenerationConfig.Load(run).ToOptions();
        Assert.Equal((0.7f, 40, 1f, 4), (options.Temperature, options.TopK, options.TopP, options.BestOf));
        Assert.Contains("\"top_k\": 40", File.ReadAllText(Path.Combine(run, GenerationConfig.FileName)), StringComparison.Ordinal);
    }

    [Fact]
    public void Unconditional_samples_take_their_own_temperature_and_the_command_line_wins_over_both()
    {
        string run = TestPaths.NewTempDirectory();
        new GenerationConfig { Temperature = 0.7f, UnconditionalTemperature = 1f }.Save(run);
        GenerationConfig config = GenerationConfig.Load(run);
        Assert.Equal(0.7f, config.Resolve(prompted: true, null, null, null, null).Temperature);
        Assert.Equal(1f, config.Resolve(prompted: false, null, null, null, null).Temperature);
        Assert.Equal(0.5f, config.Resolve(prompted: false, 0.5f, null, null, null).Temperature);
        Assert.Equal((0.5f, 8, 2), (config.Resolve(prompted: true, 0.5f, 8, null, 2) is var o ? (o.Temperature, o.TopK, o.BestOf) : default));

        // Without the key both jobs use "temperature", and it is not written.
        new GenerationConfig { Temperature = 0.8f }.Save(run);
        Assert.DoesNotContain("jpeglm_unconditional_temperature", File.ReadAllText(Path.Combine(run, GenerationConfig.FileName)), StringComparison.Ordinal);
        Assert.Equal(0.8f, GenerationConfig.Load(run).Resolve(prompted: false, null, null, null, null).Temperature);
    }

    [Fact]
    public void Out_of_range_settings_are_a_format_error_and_greedy_means_temperature_zero()
    {
        string run = TestPaths.NewTempDirectory();
        File.WriteAllText(Path.Combine(run, GenerationConfig.FileName), """{"top_p": 0}""");
        Assert.Throws<JsonException>(() => GenerationConfig.Load(run));
        File.WriteAllText(Path.Combine(run, GenerationConfig.FileName), """{"do_sample": false, "temperature": 0.9}""");
        Assert.Equal(0f, GenerationConfig.Load(run).ToOptions().Temperature);
    }
}

public class PixelLengthConstraintTests
{
    [Fact]
    public void Counts_the_prompt_it_is_fed_and_allows_eos_exactly_after_the_last_pixel()
    {
        var rule = new Pipeline.PixelSamplingSession.LengthConstraint(1 + 4); // BOS + a 2x2 image
        bool[] allowed = new bool[259];
        foreach (int t in new[] { 256, 7, 9 })
        {
            rule.Accept(t); // BOS and a two-pixel prompt, as the sampler feeds them
        }

        for (int i = 0; i < 2; i++)
        {
            rule.FillAllowed(allowed, 10);
            Assert.True(allowed[0] && allowed[255] && !allowed[257]);
            rule.Accept(3);
        }

        rule.FillAllowed(allowed, 10);
        Assert.True(allowed[257] && !allowed[0]);
    }
}
