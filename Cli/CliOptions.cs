using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace JpegLm.Cli;

/// <summary>
/// Makes the options of every command in one style: a description, the default the code uses (System.CommandLine
/// prints it in help from the same value), and a range checked at parse time, so a value out of range is a usage
/// error (exit 2) before the command runs.
/// </summary>
internal static class CliOptions
{
    /// <summary>A number option with a default and an inclusive range.</summary>
    public static Option<T> Number<T>(string name, T defaultValue, T min, T max, string description, string? helpName = null)
        where T : struct, INumber<T>
        => new(name)
        {
            Description = description,
            HelpName = helpName ?? "N",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => Parse(result, name, min, max) ?? defaultValue,
        };

    /// <summary>A number option without a default (null when not given): the command derives one, as its description says.</summary>
    public static Option<T?> OptionalNumber<T>(string name, T min, T max, string description, string? helpName = null)
        where T : struct, INumber<T>
        => new(name) { Description = description, HelpName = helpName ?? "N", CustomParser = result => Parse(result, name, min, max) };

    // One message for a value that is not a number and for one out of range; the error makes it a usage error.
    private static T? Parse<T>(ArgumentResult result, string name, T min, T max)
        where T : struct, INumber<T>
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        string text = result.Tokens[^1].Value;
        NumberStyles style = typeof(T) == typeof(float) || typeof(T) == typeof(double) ? NumberStyles.Float : NumberStyles.Integer;
        if (!T.TryParse(text, style, CultureInfo.InvariantCulture, out T value) || value < min || value > max || T.IsNaN(value))
        {
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"option {name} must be a number in {min}..{max}, got '{text}'"));
            return null;
        }

        return value;
    }

    /// <summary>A text option (a path, a name) without a default: null when not given.</summary>
    public static Option<string?> Text(string name, string helpName, string description)
        => new(name) { Description = description, HelpName = helpName };

    /// <summary>A text option with a default; <paramref name="suggestions"/> feed tab completion.</summary>
    public static Option<string> Text(string name, string helpName, string description, string defaultValue, params string[] suggestions)
    {
        var option = new Option<string>(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => defaultValue };
        option.CompletionSources.Add(suggestions);
        return option;
    }

    /// <summary>A text option that must be given.</summary>
    public static Option<string> Required(string name, string helpName, string description)
        => new(name) { Description = description, HelpName = helpName, Required = true };

    /// <summary>One of a fixed set of words.</summary>
    public static Option<string> Choice(string name, string defaultValue, string description, params string[] choices)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.AcceptOnlyFromAmong(choices);
        return option;
    }

    /// <summary>A flag: true when given.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary><c>--device auto|cpu|cpu-bf16|cuda|cuda-fp32</c>, shared by the commands that run a model.</summary>
    public static Option<string> Device() => Choice("--device", "auto", "compute backend: auto takes CUDA when usable, else the CPU; cuda runs GEMMs and attention in bf16, cuda-fp32 everything in float32; cpu-bf16 runs the CPU's GEMMs in bf16 (AVX512-BF16, the optional native kernel; weights stay float32)", "auto", "cpu", "cpu-bf16", "cuda", "cuda-fp32");

    /// <summary>A file or folder argument.</summary>
    public static Argument<string> Path(string name, string description) => new(name) { Description = description };

    /// <summary>Whether <paramref name="option"/> was written on the command line (not just defaulted).</summary>
    public static bool IsGiven(this ParseResult parsed, Option option) => parsed.GetResult(option) is { Implicit: false };

    /// <summary>The value of an option that has a default or is required.</summary>
    public static T Value<T>(this ParseResult parsed, Option<T> option) => parsed.GetValue(option)!;

    /// <summary>The value of an argument (arguments are required).</summary>
    public static T Value<T>(this ParseResult parsed, Argument<T> argument) => parsed.GetValue(argument)!;
}
