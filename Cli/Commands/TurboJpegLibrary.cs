using System.Runtime.InteropServices;

namespace JpegLm.Cli.Commands;

/// <summary>
/// The system's libjpeg-turbo through its TurboJPEG 2.x C API (libturbojpeg.so.0), bound at run time
/// so that the benchmark still runs (without the reference rows) where the library is absent.
/// Used only as a speed reference: tjCompress2 / tjDecompress2 with the accurate integer DCT and
/// preallocated buffers.
/// </summary>
internal sealed unsafe class TurboJpegLibrary : IDisposable
{
    /// <summary>TJPF_RGB: 3 bytes per pixel, R first.</summary>
    public const int PixelFormatRgb = 0;

    /// <summary>TJSAMP_420.</summary>
    public const int Subsampling420 = 2;

    private const int FlagNoRealloc = 1024;
    private const int FlagAccurateDct = 4096;

    private readonly nint _library;
    private readonly nint _handle;
    private readonly delegate* unmanaged<nint, byte*, int, int, int, int, byte**, nuint*, int, int, int, int> _compress2;
    private readonly delegate* unmanaged<int, int, int, nuint> _bufSize;
    private readonly delegate* unmanaged<int, byte*> _alloc;
    private readonly delegate* unmanaged<byte*, void> _free;
    private readonly delegate* unmanaged<nint, int> _destroy;
    private readonly delegate* unmanaged<nint, byte*, nuint, byte*, int, int, int, int, int, int> _decompress2;
    private readonly nint _decompressor;
    private byte* _buffer;
    private nuint _bufferSize;

    private TurboJpegLibrary(nint library)
    {
        _library = library;
        _compress2 = (delegate* unmanaged<nint, byte*, int, int, int, int, byte**, nuint*, int, int, int, int>)NativeLibrary.GetExport(library, "tjCompress2");
        _bufSize = (delegate* unmanaged<int, int, int, nuint>)NativeLibrary.GetExport(library, "tjBufSize");
        _alloc = (delegate* unmanaged<int, byte*>)NativeLibrary.GetExport(library, "tjAlloc");
        _free = (delegate* unmanaged<byte*, void>)NativeLibrary.GetExport(library, "tjFree");
        _destroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(library, "tjDestroy");
        var init = (delegate* unmanaged<nint>)NativeLibrary.GetExport(library, "tjInitCompress");
        _handle = init();
        _decompress2 = (delegate* unmanaged<nint, byte*, nuint, byte*, int, int, int, int, int, int>)NativeLibrary.GetExport(library, "tjDecompress2");
        _decompressor = ((delegate* unmanaged<nint>)NativeLibrary.GetExport(library, "tjInitDecompress"))();
        if (_handle == 0 || _decompressor == 0)
        {
            throw new InvalidOperationException("tjInitCompress/tjInitDecompress failed");
        }
    }

    /// <summary>Loads libturbojpeg, or returns null with the reason.</summary>
    public static TurboJpegLibrary? TryLoad(out string reason)
    {
        foreach (string name in new[] { "libturbojpeg.so.0", "libturbojpeg.so", "turbojpeg" })
        {
            if (NativeLibrary.TryLoad(name, out nint lib))
            {
                try
                {
                    reason = name;
                    return new TurboJpegLibrary(lib);
                }
                catch (EntryPointNotFoundException e)
                {
                    NativeLibrary.Free(lib);
                    reason = $"{name} lacks the TurboJPEG 2 API: {e.Message}";
                    return null;
                }
            }
        }

        reason = "libturbojpeg.so.0 not found (Debian: apt-get install libturbojpeg0)";
        return null;
    }

    /// <summary>Compresses RGB pixels at 4:2:0 with the accurate DCT; returns the JPEG size.</summary>
    public int CompressRgb420(ReadOnlySpan<byte> rgb, int width, int height, int quality)
    {
        nuint needed = _bufSize(width, height, Subsampling420);
        if (_bufferSize < needed)
        {
            if (_buffer != null)
            {
                _free(_buffer);
            }

            _buffer = _alloc(checked((int)needed));
            _bufferSize = needed;
        }

        byte* output = _buffer;
        nuint size = _bufferSize;
        fixed (byte* source = rgb)
        {
            int rc = _compress2(_handle, source, width, width * 3, height, PixelFormatRgb, &output, &size, Subsampling420, quality, FlagNoRealloc | FlagAccurateDct);
            if (rc != 0)
            {
                throw new InvalidOperationException("tjCompress2 failed");
            }
        }

        return (int)size;
    }

    /// <summary>Compresses RGB pixels at 4:2:0 with the accurate DCT and returns a copy of the JPEG.</summary>
    public byte[] CompressRgb420ToArray(ReadOnlySpan<byte> rgb, int width, int height, int quality)
    {
        int size = CompressRgb420(rgb, width, height, quality);
        return new ReadOnlySpan<byte>(_buffer, size).ToArray();
    }

    /// <summary>
    /// Asks TurboJPEG 2.x for a restart marker every <paramref name="mcus"/> MCUs in later compressions (0: none).
    /// Its C API has no parameter for this; it reads TJ_RESTART from the C environment when a compressor is used.
    /// </summary>
    public static void SetRestartInterval(int mcus)
    {
        if (!OperatingSystem.IsWindows())
        {
            _ = SetEnv("TJ_RESTART", mcus > 0 ? $"{mcus}B" : "0", 1);
        }
    }

    /// <summary>Decompresses a JPEG to RGB (accurate islow IDCT, fancy upsampling: djpeg -dct int).</summary>
    public void DecompressRgb(ReadOnlySpan<byte> jpeg, Span<byte> rgb, int width, int height)
    {
        fixed (byte* source = jpeg)
        fixed (byte* destination = rgb)
        {
            if (_decompress2(_decompressor, source, (nuint)jpeg.Length, destination, width, width * 3, height, PixelFormatRgb, FlagAccurateDct) != 0)
            {
                throw new InvalidOperationException("tjDecompress2 failed");
            }
        }
    }

    public void Dispose()
    {
        if (_buffer != null)
        {
            _free(_buffer);
            _buffer = null;
        }

        _destroy(_handle);
        _destroy(_decompressor);
        NativeLibrary.Free(_library);
    }

    [DllImport("libc", EntryPoint = "setenv")]
#pragma warning disable CA2101, CA5392 // ASCII names; libc is a system library.
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPStr)] string name, [MarshalAs(UnmanagedType.LPStr)] string value, int overwrite);
#pragma warning restore CA2101, CA5392
}
