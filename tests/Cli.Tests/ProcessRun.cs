using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace JpegLm.Cli.Tests;

/// <summary>A child process whose output is collected as it runs (for tests that need real processes: mpirun).</summary>
internal sealed class ProcessRun : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new(), _stderr = new();

    private ProcessRun(Process process) => _process = process;

    public bool HasExited => _process.HasExited;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static ProcessRun Start(string file, IEnumerable<string> args, IEnumerable<(string Name, string Value)>? environment = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach ((string name, string value) in environment ?? [])
        {
            info.Environment[name] = value;
        }

        var run = new ProcessRun(new Process { StartInfo = info });
        run._process.OutputDataReceived += (_, e) => Append(run._stdout, e.Data);
        run._process.ErrorDataReceived += (_, e) => Append(run._stderr, e.Data);
        run._process.Start();
        run._process.BeginOutputReadLine();
        run._process.BeginErrorReadLine();
        return run;
    }

    /// <summary>Waits for the exit (killing the whole tree after <paramref name="timeout"/>), logs the output, returns the exit code.</summary>
    public int Wait(TimeSpan timeout, ITestOutputHelper log)
    {
        bool exited = _process.WaitForExit(timeout);
        if (!exited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.WaitForExit(); // drains the asynchronous readers
        log.WriteLine($"$ {_process.StartInfo.FileName} {string.Join(' ', _process.StartInfo.ArgumentList)} -> {(exited ? _process.ExitCode.ToString() : "killed after the timeout")}");
        log.WriteLine(Stdout);
        log.WriteLine(Stderr);
        Assert.True(exited, $"still running after {timeout}");
        return _process.ExitCode;
    }

    /// <summary>Sends signal <paramref name="signal"/> (e.g. 10, SIGUSR1) to the process.</summary>
    public void Signal(int signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString()]);
        kill.WaitForExit();
    }

    /// <summary>The id of a direct child whose environment holds <paramref name="entry"/> (<c>NAME=value</c>).</summary>
    public int ChildWithEnvironment(string entry)
    {
        foreach (string dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }

            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // "pid (comm) state ppid ...": the command may hold spaces and parentheses, so parse after the last ')'.
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == _process.Id && File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains(entry))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }

        throw new InvalidOperationException($"no child of {_process.Id} has {entry}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static void Append(StringBuilder sink, string? line)
    {
        if (line != null)
        {
            lock (sink)
            {
                sink.Append(line).Append('\n');
            }
        }
    }
}
