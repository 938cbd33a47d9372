using System.Runtime.InteropServices;

namespace JpegLm.Cuda.Interop;

/// <summary>
/// What the library resolver may look at: environment variables, directories, files, and the dynamic loader.
/// The real one is <see cref="SystemLibraryProbe"/>; tests inject a fake file system so that the search order,
/// the environment overrides and the stub rejection are checked without any CUDA library installed.
/// </summary>
public interface ILibraryProbe
{
    /// <summary>An environment variable, or null.</summary>
    string? Environment(string name);

    /// <summary>The full paths of the sub-directories of <paramref name="parent"/> (none when it does not exist).</summary>
    IEnumerable<string> Subdirectories(string parent);

    /// <summary>Whether a file exists at <paramref name="path"/> (links followed).</summary>
    bool FileExists(string path);

    /// <summary>
    /// Loads a library by bare soname (searched by the dynamic loader) or by path. Returns the handle, or
    /// 0 with <paramref name="error"/> set.
    /// </summary>
    nint TryLoad(string nameOrPath, out string? error);

    /// <summary>Releases a handle <see cref="TryLoad"/> returned.</summary>
    void Free(nint handle);
}

/// <summary>The real environment: <see cref="System.Environment"/>, <see cref="Directory"/> and <see cref="NativeLibrary"/>.</summary>
public sealed class SystemLibraryProbe : ILibraryProbe
{
    /// <summary>The single instance.</summary>
    public static SystemLibraryProbe Instance { get; } = new();

    private SystemLibraryProbe()
    {
    }

    /// <inheritdoc/>
    public string? Environment(string name) => System.Environment.GetEnvironmentVariable(name);

    /// <inheritdoc/>
    public IEnumerable<string> Subdirectories(string parent)
    {
        try
        {
            return Directory.Exists(parent) ? Directory.GetDirectories(parent) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <inheritdoc/>
    public bool FileExists(string path) => File.Exists(path);

    /// <inheritdoc/>
    public nint TryLoad(string nameOrPath, out string? error)
    {
        try
        {
            error = null;
            return NativeLibrary.Load(nameOrPath);
        }
        catch (DllNotFoundException e)
        {
            error = LoaderMessage(e.Message);
            return 0;
        }
        catch (BadImageFormatException e)
        {
            error = e.Message;
            return 0;
        }
    }

    /// <inheritdoc/>
    public void Free(nint handle) => NativeLibrary.Free(handle);

    /// <summary>
    /// The dynamic loader's own words from .NET's message, which wraps one dlerror line per path it tried
    /// after a long preamble: the last such line is the plain-name attempt.
    /// </summary>
    internal static string LoaderMessage(string message)
    {
        string[] lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length > 1 ? lines[^1] : message;
    }
}
