using System.Runtime.InteropServices;
using System.Text;

namespace JpegLm.Cuda.Interop;

/// <summary>
/// NVRTC, the CUDA runtime compiler: compiles a CUDA C source (plus in-memory headers) to a CUBIN for one
/// <c>sm_XY</c> architecture. Works without a GPU, so kernel sources are compile-checked on every CI run.
/// Bound through function pointers from the loaded library (trimming-safe).
/// </summary>
public sealed unsafe class Nvrtc
{
    private const int NvrtcSuccess = 0;
    private const int NvrtcErrorCompilation = 6;

    private readonly delegate* unmanaged<int, byte*> _getErrorString;
    private readonly delegate* unmanaged<int*, int*, int> _version;
    private readonly delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int> _createProgram;
    private readonly delegate* unmanaged<nint*, int> _destroyProgram;
    private readonly delegate* unmanaged<nint, int, byte**, int> _compileProgram;
    private readonly delegate* unmanaged<nint, nuint*, int> _getProgramLogSize;
    private readonly delegate* unmanaged<nint, byte*, int> _getProgramLog;
    private readonly delegate* unmanaged<nint, nuint*, int> _getCubinSize;
    private readonly delegate* unmanaged<nint, byte*, int> _getCubin;

    /// <summary>Binds the entry points of a loaded NVRTC library.</summary>
    public Nvrtc(LoadedLibrary library)
    {
        Library = library;
        nint h = library.Handle;
        _getErrorString = (delegate* unmanaged<int, byte*>)Export(h, "nvrtcGetErrorString");
        _version = (delegate* unmanaged<int*, int*, int>)Export(h, "nvrtcVersion");
        _createProgram = (delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int>)Export(h, "nvrtcCreateProgram");
        _destroyProgram = (delegate* unmanaged<nint*, int>)Export(h, "nvrtcDestroyProgram");
        _compileProgram = (delegate* unmanaged<nint, int, byte**, int>)Export(h, "nvrtcCompileProgram");
        _getProgramLogSize = (delegate* unmanaged<nint, nuint*, int>)Export(h, "nvrtcGetProgramLogSize");
        _getProgramLog = (delegate* unmanaged<nint, byte*, int>)Export(h, "nvrtcGetProgramLog");
        _getCubinSize = (delegate* unmanaged<nint, nuint*, int>)Export(h, "nvrtcGetCUBINSize");
        _getCubin = (delegate* unmanaged<nint, byte*, int>)Export(h, "nvrtcGetCUBIN");
        int major = 0, minor = 0;
        Check(_version(&major, &minor), "nvrtcVersion");
        Version = new Version(major, minor);
    }

    /// <summary>The library the entry points came from.</summary>
    public LoadedLibrary Library { get; }

    /// <summary>NVRTC's own version (e.g. 11.8 for Debian's <c>libnvrtc.so.11.2</c>).</summary>
    public Version Version { get; }

    /// <summary>Resolves NVRTC alone (for compile-only use) with the system probe; null with the reason when absent.</summary>
    public static Nvrtc? TryLoad(out LibraryResolution resolution)
    {
        resolution = LibraryResolver.ResolveToolkit(SystemLibraryProbe.Instance, CudaLibrary.Nvrtc);
        return resolution.Success ? new Nvrtc(resolution.Get(CudaLibrary.Nvrtc)) : null;
    }

    /// <summary>
    /// Compiles <paramref name="source"/> to a CUBIN for <c>sm_{arch}</c> (e.g. 90). <paramref name="headers"/>
    /// maps include names to their text. Throws a <see cref="CudaException"/> carrying the compile log on error.
    /// </summary>
    public byte[] CompileToCubin(string source, string name, IReadOnlyDictionary<string, string> headers, int arch, IReadOnlyList<string> options, out string log)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(options);
        var strings = new List<nint>();
        try
        {
            byte* src = Utf8(source, strings);
            byte* programName = Utf8(name, strings);
            byte** headerTexts = stackalloc byte*[Math.Max(1, headers.Count)];
            byte** headerNames = stackalloc byte*[Math.Max(1, headers.Count)];
            int i = 0;
            foreach (KeyValuePair<string, string> header in headers)
            {
                headerNames[i] = Utf8(header.Key, strings);
                headerTexts[i] = Utf8(header.Value, strings);
                i++;
            }

            var allOptions = new List<string>(options) { $"--gpu-architecture=sm_{arch}" };
            byte** opts = stackalloc byte*[allOptions.Count];
            for (int o = 0; o < allOptions.Count; o++)
            {
                opts[o] = Utf8(allOptions[o], strings);
            }

            nint program = 0;
            Check(_createProgram(&program, src, programName, headers.Count, headerTexts, headerNames), $"nvrtcCreateProgram({name})");
            try
            {
                int compiled = _compileProgram(program, allOptions.Count, opts);
                log = ReadLog(program);
                if (compiled != NvrtcSuccess)
                {
                    throw new CudaException(CudaLibrary.Nvrtc, $"nvrtcCompileProgram({name}, sm_{arch})", compiled, ErrorName(compiled), null,
                        compiled == NvrtcErrorCompilation ? log : null);
                }

                nuint size = 0;
                Check(_getCubinSize(program, &size), $"nvrtcGetCUBINSize({name})");
                byte[] cubin = new byte[(int)size];
                fixed (byte* p = cubin)
                {
                    Check(_getCubin(program, p), $"nvrtcGetCUBIN({name})");
                }

                return cubin;
            }
            finally
            {
                _ = _destroyProgram(&program);
            }
        }
        finally
        {
            foreach (nint s in strings)
            {
                Marshal.FreeHGlobal(s);
            }
        }
    }

    /// <summary>NVRTC's name for a status (<c>NVRTC_ERROR_COMPILATION</c>).</summary>
    public string ErrorName(int status)
    {
        byte* text = _getErrorString(status);
        return text == null ? $"NVRTC_ERROR_{status}" : Marshal.PtrToStringUTF8((nint)text) ?? $"NVRTC_ERROR_{status}";
    }

    private string ReadLog(nint program)
    {
        nuint size = 0;
        Check(_getProgramLogSize(program, &size), "nvrtcGetProgramLogSize");
        if (size <= 1)
        {
            return "";
        }

        byte[] buffer = new byte[(int)size];
        fixed (byte* p = buffer)
        {
            Check(_getProgramLog(program, p), "nvrtcGetProgramLog");
        }

        return Encoding.UTF8.GetString(buffer, 0, buffer.Length - 1);
    }

    private void Check(int status, string call)
    {
        if (status != NvrtcSuccess)
        {
            throw new CudaException(CudaLibrary.Nvrtc, call, status, ErrorName(status));
        }
    }

    private static byte* Utf8(string text, List<nint> owned)
    {
        int bytes = Encoding.UTF8.GetByteCount(text);
        nint memory = Marshal.AllocHGlobal(bytes + 1);
        owned.Add(memory);
        var span = new Span<byte>((void*)memory, bytes + 1);
        Encoding.UTF8.GetBytes(text, span);
        span[bytes] = 0;
        return (byte*)memory;
    }

    private static nint Export(nint handle, string name)
        => NativeLibrary.TryGetExport(handle, name, out nint address)
            ? address
            : throw new CudaException($"the NVRTC library has no export {name}");
}
