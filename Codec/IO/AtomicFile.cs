namespace JpegLm.Codec.IO;

/// <summary>
/// Writes files so that a reader (or a crash) never sees half a file and nothing a user had is lost
/// on failure: the bytes go to a temporary name in the same folder, which is then renamed over the target.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> via a temporary file and a rename.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string tmp = TempNameFor(path);
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>
    /// Opens a temporary file beside <paramref name="path"/>, lets <paramref name="write"/> fill it, then renames it
    /// over the target; on any exception the temporary file is removed and the target is untouched.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string tmp = TempNameFor(path);
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte-order mark) via a temporary file and a rename.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        WriteAllBytes(path, new System.Text.UTF8Encoding(false).GetBytes(text));
    }

    /// <summary>
    /// Starts a file that is written piece by piece (a token shard, a large checkpoint): its stream is a temporary
    /// file beside <paramref name="path"/>; <see cref="PendingFile.Commit"/> renames it over the target, and disposing
    /// an uncommitted one deletes it, so the target is either the old file or the whole new one.
    /// </summary>
    public static PendingFile Create(string path) => new(path, TempNameFor(path));

    internal static string TempNameFor(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the temporary name is unique, so a leftover never hides a user's file.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>A file being written under a temporary name (see <see cref="AtomicFile.Create"/>).</summary>
public sealed class PendingFile : IDisposable
{
    private readonly string _path;
    private readonly string _temp;
    private bool _committed;

    internal PendingFile(string path, string temp)
    {
        _path = path;
        _temp = temp;
        Stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
    }

    /// <summary>The temporary file's stream (seekable).</summary>
    public FileStream Stream { get; }

    /// <summary>Flushes to disk and renames the file over its target.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(_temp, _path, overwrite: true);
        _committed = true;
    }

    /// <summary>Deletes the temporary file unless it was committed.</summary>
    public void Dispose()
    {
        if (!_committed)
        {
            Stream.Dispose();
            AtomicFile.TryDelete(_temp);
            _committed = true;
        }
    }
}
