namespace JpegLm.TestSupport;

/// <summary>Finds the repository's folders from a test's working directory.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The repository root (the folder holding JpegLm.sln).</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>The committed golden files: <c>testdata/</c>.</summary>
    public static string TestData => Path.Combine(RepoRoot, "testdata");

    /// <summary>Path of a file under <c>testdata/</c>.</summary>
    public static string Data(params string[] parts) => Path.Combine([TestData, .. parts]);

    /// <summary>
    /// The workplace's shared data folder (<c>../shared/data</c> beside the checkout), or null when it
    /// is absent: tests that need it must skip with a message then.
    /// </summary>
    public static string? SharedData
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("JPEGLM_SHARED_DATA");
            if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
            {
                return env;
            }

            string candidate = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
            return Directory.Exists(candidate) ? candidate : null;
        }
    }

    /// <summary>A fresh empty temporary folder for one test.</summary>
    public static string NewTempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "jpeglm-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "JpegLm.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (JpegLm.sln) above " + AppContext.BaseDirectory);
    }
}
