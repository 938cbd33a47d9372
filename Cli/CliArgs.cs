using System.Globalization;

namespace JpegLm.Cli;

/// <summary>A usage error: the command line itself is wrong. Exits with code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The arguments of one command: positionals in order, and <c>--name value</c> / <c>--flag</c> options.
/// Every option a command reads is marked used; <see cref="EnsureAllUsed"/> rejects unknown ones, so a
/// typo is a usage error rather than a silently ignored setting.
/// </summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly List<string> _positionals = [];

    /// <summary>Parses <paramref name="args"/>; <paramref name="flags"/> names options that take no value.</summary>
    public CliArgs(IReadOnlyList<string> args, params string[] flags)
    {
        ArgumentNullException.ThrowIfNull(args);
        var flagSet = new HashSet<string>(flags, StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=', StringComparison.Ordinal);
                if (eq >= 0)
                {
                    value = name[(eq + 1)..];
                    name = name[..eq];
                }
                else if (!flagSet.Contains(name))
                {
                    if (i + 1 >= args.Count)
                    {
                        throw new UsageException($"option --{name} needs a value");
                    }

                    value = args[++i];
                }

                if (!_options.TryAdd(name, value))
                {
                    throw new UsageException($"option --{name} given twice");
                }
            }
            else
            {
                _positionals.Add(a);
            }
        }
    }

    /// <summary>Positional arguments in order.</summary>
    public IReadOnlyList<string> Positionals => _positionals;

    /// <summary>The positional at <paramref name="index"/>, or a usage error naming it.</summary>
    public string Positional(int index, string what)
        => index < _positionals.Count ? _positionals[index] : throw new UsageException($"missing {what}");

    /// <summary>Whether a flag (or any option) was given.</summary>
    public bool Flag(string name)
    {
        _used.Add(name);
        return _options.ContainsKey(name);
    }

    /// <summary>A string option, or <paramref name="fallback"/>.</summary>
    public string? String(string name, string? fallback = null)
    {
        _used.Add(name);
        return _options.TryGetValue(name, out string? v) ? v ?? throw new UsageException($"option --{name} needs a value") : fallback;
    }

    /// <summary>A required string option.</summary>
    public string Required(string name) => String(name) ?? throw new UsageException($"missing option --{name}");

    /// <summary>An integer option in [min, max].</summary>
    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue) => (int)Long(name, fallback, min, max);

    /// <summary>A 64-bit integer option.</summary>
    public long Long(string name, long fallback, long min = long.MinValue, long max = long.MaxValue)
    {
        string? s = String(name);
        if (s == null)
        {
            return fallback;
        }

        if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) || v < min || v > max)
        {
            throw new UsageException($"option --{name} must be an integer in {min}..{max}, got '{s}'");
        }

        return v;
    }

    /// <summary>A floating-point option in [min, max].</summary>
    public double Double(string name, double fallback, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        string? s = String(name);
        if (s == null)
        {
            return fallback;
        }

        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v < min || v > max || double.IsNaN(v))
        {
            throw new UsageException($"option --{name} must be a number in {min}..{max}, got '{s}'");
        }

        return v;
    }

    /// <summary>Fails with a usage error if an option was given that no code read, or too many positionals.</summary>
    public void EnsureAllUsed(int maxPositionals)
    {
        foreach (string name in _options.Keys)
        {
            if (!_used.Contains(name))
            {
                throw new UsageException($"unknown option --{name}");
            }
        }

        if (_positionals.Count > maxPositionals)
        {
            throw new UsageException($"unexpected argument '{_positionals[maxPositionals]}'");
        }
    }
}
