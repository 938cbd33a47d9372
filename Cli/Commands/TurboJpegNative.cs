using System.Runtime.InteropServices;

namespace JpegLm.Cli.Commands;

/// <summary>
/// The few TurboJPEG 2.x calls the decode benchmark needs, bound at run time from libturbojpeg.so.0
/// (NativeLibrary.TryLoad) so the tool runs, and the benchmark skips, where the library is absent.
/// </summary>
internal sealed unsafe class TurboJpegNative : IDisposable
{
    /// <summary>TJPF_RGB: interleaved R, G, B.</summary>
    public const int PixelFormatRgb = 0;

    /// <summary>TJSAMP_420.</summary>
    public const int Subsampling420 = 2;

    /// <summary>TJFLAG_ACCURATEDCT: the islow IDCT, as <c>djpeg -dct int</c>.</summary>
    public const int FlagAccurateDct = 4096;

    private readonly nint _library;
    private readonly delegate* unmanaged<nint> _initCompress;
    private readonly delegate* unmanaged<nint> _initDecompress;
    private readonly delegate* unmanaged<nint, byte*, int, int, int, int, byte**, nuint*, int, int, int, int> _compress2;
    private readonly delegate* unmanaged<nint, byte*, nuint, byte*, int, int, int, int, int, int> _decompress2;
    private readonly delegate* unmanaged<byte*, void> _free;
    private readonly delegate* unmanaged<nint, int> _destroy;
    private readonly nint _compressor;
    private readonly nint _decompressor;

    private TurboJpegNative(nint library)
    {
        _library = library;
        _initCompress = (delegate* unmanaged<nint>)NativeLibrary.GetExport(library, "tjInitCompress");
        _initDecompress = (delegate* unmanaged<nint>)NativeLibrary.GetExport(library, "tjInitDecompress");
        _compress2 = (delegate* unmanaged<nint, byte*, int, int, int, int, byte**, nuint*, int, int, int, int>)NativeLibrary.GetExport(library, "tjCompress2");
        _decompress2 = (delegate* unmanaged<nint, byte*, nuint, byte*, int, int, int, int, int, int>)NativeLibrary.GetExport(library, "tjDecompress2");
        _free = (delegate* unmanaged<byte*, void>)NativeLibrary.GetExport(library, "tjFree");
        _destroy = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(library, "tjDestroy");
        _compressor = _initCompress();
        _decompressor = _initDecompress();
    }

    /// <summary>Loads libturbojpeg, or returns null with the reason.</summary>
    public static TurboJpegNative? TryLoad(out string why)
    {
        foreach (string name in new[] { "libturbojpeg.so.0", "libturbojpeg.so", "libturbojpeg.0.dylib", "turbojpeg.dll" })
        {
            if (NativeLibrary.TryLoad(name, out nint handle))
            {
                why = name;
                return new TurboJpegNative(handle);
            }
        }

        why = "libturbojpeg (libturbojpeg.so.0) not found";
        return null;
    }

    /// <summary>Asks TurboJPEG 2.x for a restart marker every <paramref name="mcus"/> MCUs (it reads TJ_RESTART from the C environment).</summary>
    public static void SetRestartInterval(int mcus)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        _ = SetEnv("TJ_RESTART", mcus > 0 ? $"{mcus}B" : "0", 1);
    }

    /// <summary>Compresses interleaved RGB.</summary>
    public byte[] Compress(byte[] rgb, int width, int height, int subsampling, int quality)
    {
        byte* jpeg = null;
        nuint size = 0;
        fixed (byte* src = rgb)
        {
            if (_compress2(_compressor, src, width, width * 3, height, PixelFormatRgb, &jpeg, &size, subsampling, quality, FlagAccurateDct) != 0)
            {
                throw new InvalidOperationException("tjCompress2 failed");
            }
        }

        byte[] result = new ReadOnlySpan<byte>(jpeg, (int)size).ToArray();
        _free(jpeg);
        return result;
    }

    /// <summary>Decompresses to interleaved RGB with the accurate integer IDCT.</summary>
    public void Decompress(byte[] jpeg, byte[] rgb, int width, int height)
    {
        fixed (byte* src = jpeg)
        fixed (byte* dst = rgb)
        {
            if (_decompress2(_decompressor, src, (nuint)jpeg.Length, dst, width, width * 3, height, PixelFormatRgb, FlagAccurateDct) != 0)
            {
                throw new InvalidOperationException("tjDecompress2 failed");
            }
        }
    }

    public void Dispose()
    {
        _ = _destroy(_compressor);
        _ = _destroy(_decompressor);
        NativeLibrary.Free(_library);
    }

    [DllImport("libc", EntryPoint = "setenv")]
#pragma warning disable CA2101, CA5392 // ASCII names; libc is a system library.
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPStr)] string name, [MarshalAs(UnmanagedType.LPStr)] string value, int overwrite);
#pragma warning restore CA2101, CA5392
}
