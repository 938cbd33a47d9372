using System.CommandLine;
using System.CommandLine.Parsing;

namespace JpegLm.Cli;

/// <summary>
/// Prints System.CommandLine's parse errors on stderr in jpeglm's style: one line each, prefixed with the command,
/// an unknown option or command with the nearest known names ("did you mean --quality?"), then where help is.
/// (The library's own error action prints typo corrections and help on stdout and exits 1; jpeglm keeps stdout
/// for results and exits 2.)
/// </summary>
internal static class UsageErrors
{
    /// <summary>Writes the errors of a failed parse.</summary>
    public static void Write(ParseResult parsed, TextWriter stderr)
    {
        CommandResult result = parsed.CommandResult;
        Command command = result.Command;
        string path = CommandPath(result);
        IReadOnlyList<string> unmatched = parsed.UnmatchedTokens;
        bool group = command.Subcommands.Count > 0 && command.Action == null;
        foreach (ParseError error in parsed.Errors)
        {
            if (unmatched.Any(t => error.Message.Contains($"'{t}'", StringComparison.Ordinal)))
            {
                continue; // reported below, with suggestions
            }

            if (group && error.SymbolResult is CommandResult)
            {
                // "Required command was not provided": unless a misspelt one is reported below, say which exist.
                if (!unmatched.Any(t => !t.StartsWith('-')))
                {
                    stderr.WriteLine($"{path}: missing command, one of: {string.Join(", ", Visible(command.Subcommands))}");
                }

                continue;
            }

            stderr.WriteLine($"{path}: {error.Message}");
        }

        for (int i = 0; i < unmatched.Count; i++)
        {
            string token = unmatched[i];
            if (token.StartsWith('-'))
            {
                stderr.WriteLine($"{path}: unknown option {token}{Suggest(token, command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)))}");
                if (i + 1 < unmatched.Count && !unmatched[i + 1].StartsWith('-'))
                {
                    i++; // most likely the unknown option's value: one error is enough
                }
            }
            else if (command.Subcommands.Count > 0)
            {
                stderr.WriteLine($"{path}: unknown command '{token}'{Suggest(token, Visible(command.Subcommands))}");
                break; // what follows belongs to the command meant
            }
            else
            {
                stderr.WriteLine($"{path}: unexpected argument '{token}'");
            }
        }

        stderr.WriteLine($"see '{path} --help'");
    }

    /// <summary>"jpeglm bench jpeg" for the command a result belongs to.</summary>
    public static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r != null; r = r.Parent)
        {
            if (r is CommandResult c)
            {
                names.Add(c.Command is RootCommand ? "jpeglm" : c.Command.Name);
            }
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    private static IEnumerable<string> Visible(IEnumerable<Command> commands) => commands.Where(c => !c.Hidden).Select(c => c.Name);

    /// <summary>", did you mean X?" with the candidates nearest by edit distance (or that the token starts), or "".</summary>
    internal static string Suggest(string token, IEnumerable<string> candidates)
    {
        string bare = token.Split('=', 2)[0];
        var scored = candidates.Distinct(StringComparer.Ordinal)
            .Select(c => (Name: c, Distance: c.StartsWith(bare, StringComparison.Ordinal) && bare.TrimStart('-').Length >= 2 ? 0 : Distance(bare, c)))
            .Where(s => s.Distance <= Math.Max(2, bare.Length / 3))
            .OrderBy(s => s.Distance).ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
        if (scored.Count == 0)
        {
            return "";
        }

        string[] best = [.. scored.TakeWhile(s => s.Distance == scored[0].Distance).Take(3).Select(s => s.Name)];
        return $", did you mean {string.Join(" or ", best)}?";
    }

    // Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours each cost 1.
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
