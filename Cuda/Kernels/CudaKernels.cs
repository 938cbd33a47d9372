using System.Runtime.InteropServices;
using JpegLm.Cuda.Interop;
using JpegLm.Engine.Kernels;

namespace JpegLm.Cuda.Kernels;

/// <summary>How <see cref="CudaKernels"/> computes the matrix products and attention.</summary>
public enum CudaPrecision
{
    /// <summary>Everything in float32 (cuBLAS SGEMM-equivalent without TF32): the exact path, checked against the CPU at 1e-5.</summary>
    Float32,

    /// <summary>
    /// Weights, activations, gradients and optimizer state stay float32 (the master copies); the GEMMs read
    /// bfloat16 copies of their inputs made just before the call and accumulate in float32 (as llm.c).
    /// </summary>
    BFloat16,
}

/// <summary>
/// The CUDA backend of <see cref="IKernels"/>: every tensor in device memory, every kernel issued in order on
/// one stream. Kernels are CUDA C sources compiled once per architecture by NVRTC (cached on disk); GEMMs go
/// through cuBLAS with float32 accumulation. All reductions run in a fixed order with no floating-point
/// atomics, so results are bit-identical run to run on the same GPU and library versions.
/// One instance must not be used from several threads at once.
/// </summary>
public sealed unsafe partial class CudaKernels : IKernels
{
    private const int Threads = 256;

    private readonly CudaDevice _device;
    private readonly Cublas _cublas;
    private readonly CubinCache _cubins;
    private readonly DeviceMemoryPool _pool;
    private readonly Dictionary<string, nint> _modules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, nint> _functions = new(StringComparer.Ordinal);
    // Host copies of uploaded token ids by (buffer, first element): see EmbeddingBackward.
    private readonly Dictionary<(CudaTensorBuffer Buffer, long Offset), int[]> _hostTokens = [];
    private int[]? _spareTokens;
    private bool _disposed;

    private CudaKernels(CudaDevice device, Cublas cublas, CubinCache cubins, CudaPrecision precision, LibraryResolution toolkit)
    {
        _device = device;
        _cublas = cublas;
        _cubins = cubins;
        _pool = new DeviceMemoryPool(device);
        Precision = precision;
        Toolkit = toolkit;
    }

    /// <summary>The device the kernels run on.</summary>
    public CudaDevice Device => _device;

    /// <summary>The precision of GEMMs and attention.</summary>
    public CudaPrecision Precision { get; }

    /// <summary>The toolkit libraries in use (cuBLAS, cuBLASLt, NVRTC).</summary>
    public LibraryResolution Toolkit { get; }

    /// <summary>cuBLAS's version number.</summary>
    public int CublasVersion => _cublas.Version;

    /// <summary>The CUBIN cache.</summary>
    public CubinCache Cubins => _cubins;

    /// <summary>Bytes of device memory taken from the driver so far.</summary>
    public long ReservedBytes => _pool.ReservedBytes;

    /// <summary><c>cuMemAlloc</c> calls so far.</summary>
    public int DriverAllocations => _pool.DriverAllocations;

    /// <summary>The device's dense peak for <see cref="Precision"/> (<see cref="DevicePeaks"/>); null for a GPU not in the table.</summary>
    public double? PeakFlops => DevicePeaks.Dense(_device.Name, _device.ComputeCapability.Major, Precision);

    /// <inheritdoc/>
    public string Name => $"cuda({_device.Name}, sm_{_device.Arch}, {(Precision == CudaPrecision.Float32 ? "fp32" : "bf16")})";

    /// <summary>
    /// Opens device <paramref name="ordinal"/> with the libraries the resolver finds (the system probe unless
    /// <paramref name="probe"/> is given). Throws <see cref="CudaException"/> saying what is missing.
    /// </summary>
    public static CudaKernels Create(CudaPrecision precision = CudaPrecision.Float32, int ordinal = 0, ILibraryProbe? probe = null, string? cubinCache = null)
    {
        probe ??= SystemLibraryProbe.Instance;
        LibraryResolution driver = LibraryResolver.ResolveDriver(probe);
        if (!driver.Success)
        {
            throw new CudaException(driver.Explain(probe));
        }

        LibraryResolution toolkit = LibraryResolver.ResolveToolkit(probe, CudaLibrary.Cublas, CudaLibrary.CublasLt, CudaLibrary.Nvrtc);
        if (!toolkit.Success)
        {
            throw new CudaException(toolkit.Explain(probe));
        }

        CudaDevice device = CudaDevice.Open(driver.Get(CudaLibrary.Driver), ordinal);
        try
        {
            var cublas = new Cublas(toolkit.Get(CudaLibrary.Cublas), device.Stream, toolkit.Get(CudaLibrary.CublasLt));
            var nvrtc = new Nvrtc(toolkit.Get(CudaLibrary.Nvrtc));
            return new CudaKernels(device, cublas, new CubinCache(nvrtc, cubinCache), precision, toolkit);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>Compiles (or loads from the cache) and loads every kernel module now rather than at first use.</summary>
    public void LoadAllModules()
    {
        foreach (string module in KernelSources.Modules)
        {
            _ = Module(module);
        }
    }

    // ───────────────────────────── memory ─────────────────────────────

    /// <inheritdoc/>
    public ITensorBuffer Allocate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ulong pointer = _pool.Rent(length * 4, out long size);
        _device.Fill32(pointer, 0, Math.Max(length, 1));
        return new CudaTensorBuffer(this, pointer, length, size);
    }

    internal void Release(CudaTensorBuffer buffer, ulong pointer)
    {
        if (_disposed)
        {
            return;
        }

        foreach ((CudaTensorBuffer, long) key in _hostTokens.Keys.Where(k => k.Buffer == buffer).ToList())
        {
            _hostTokens.Remove(key);
        }

        _pool.Return(pointer, buffer.Bytes);
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        RequireLength(destination, source.Length);
        ForgetTokens(destination);
        _device.CopyToDevice(Ptr(destination), MemoryMarshal.AsBytes(source));
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<int> source, TokenTensor destination)
    {
        if (source.Length != destination.Length)
        {
            throw new ArgumentException($"upload of {source.Length} ids into a tensor of {destination.Length}");
        }

        ulong pointer = Ptr(destination);
        ForgetTokens(new Tensor(destination.Buffer, destination.Offset, destination.Length));
        _device.CopyToDevice(pointer, MemoryMarshal.AsBytes(source));
        // The host copy lets the embedding backward group rows by token without device atomics.
        var key = ((CudaTensorBuffer)destination.Buffer, destination.Offset);
        if (_spareTokens is { } spare && spare.Length == source.Length)
        {
            source.CopyTo(spare);
            _hostTokens[key] = spare;
            _spareTokens = null;
        }
        else
        {
            _hostTokens[key] = source.ToArray();
        }
    }

    /// <inheritdoc/>
    public void Download(Tensor source, Span<float> destination)
    {
        RequireLength(source, destination.Length);
        _device.CopyToHost(MemoryMarshal.AsBytes(destination), Ptr(source));
    }

    /// <inheritdoc/>
    public void Zero(Tensor tensor)
    {
        ForgetTokens(tensor);
        if (tensor.Length > 0)
        {
            _device.Fill32(Ptr(tensor), 0, tensor.Length);
        }
    }

    /// <summary>Fills a tensor with NaN (quiet NaN bits), so that a kernel that leaves an element unwritten fails a check.</summary>
    public void Poison(Tensor tensor)
    {
        ForgetTokens(tensor);
        if (tensor.Length > 0)
        {
            _device.Fill32(Ptr(tensor), 0x7fc00000u, tensor.Length);
        }
    }

    /// <inheritdoc/>
    public void Copy2D(Tensor destination, long destinationStride, Tensor source, long sourceStride, int rows, int rowLength)
    {
        if (rows <= 0 || rowLength <= 0)
        {
            return;
        }

        RequireLength(destination, (rows - 1) * destinationStride + rowLength, atLeast: true);
        RequireLength(source, (rows - 1) * sourceStride + rowLength, atLeast: true);
        ForgetTokens(destination.Slice(0, (rows - 1) * destinationStride + rowLength));
        ulong d = Ptr(destination), s = Ptr(source);
        void** args = stackalloc void*[] { &d, &destinationStride, &s, &sourceStride, &rows, &rowLength };
        Launch("pointwise.cu", "copy_2d", (long)rows * rowLength, args);
    }

    /// <inheritdoc/>
    public void Synchronize() => _device.Synchronize();

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            _device.Synchronize();
            foreach (nint module in _modules.Values)
            {
                _device.UnloadModule(module);
            }

            _pool.Dispose();
        }
        catch (CudaException)
        {
            // A sticky error (an illegal address, say) fails every later call of this context. It was thrown
            // to whoever issued the work that caused it; throwing it again here would hide that first report
            // behind a second one from a using block's Dispose.
        }
        finally
        {
            _cublas.Dispose();
            _modules.Clear();
            _functions.Clear();
            _device.Dispose();
        }
    }

    // ───────────────────────────── helpers ─────────────────────────────

    /// <summary>The device address of a tensor's first element, after checking that this backend owns it.</summary>
    internal ulong Ptr(Tensor t)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (t.Buffer is not CudaTensorBuffer b || b.Owner != this)
        {
            throw new ArgumentException("tensor was not allocated by this CudaKernels instance");
        }

        ObjectDisposedException.ThrowIf(b.Pointer == 0, b);

        if (t.Offset < 0 || t.Length < 0 || t.Offset + t.Length > b.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(t), $"view [{t.Offset}, {t.Offset + t.Length}) outside a buffer of {b.Length}");
        }

        return b.Pointer + (ulong)t.Offset * 4;
    }

    private ulong Ptr(TokenTensor t, long needed = 0)
    {
        if (t.Length < needed)
        {
            throw new ArgumentException($"token tensor holds {t.Length} ids, {needed} needed");
        }

        return Ptr(new Tensor(t.Buffer, t.Offset, t.Length));
    }

    private static void RequireLength(Tensor t, long length, bool atLeast = false)
    {
        if (atLeast ? t.Length < length : t.Length != length)
        {
            throw new ArgumentException($"tensor holds {t.Length} elements, {(atLeast ? "at least " : "")}{length} expected");
        }
    }

    /// <summary>Drops host token copies that overlap a range about to be overwritten by a host-side operation.</summary>
    private void ForgetTokens(Tensor written)
    {
        if (_hostTokens.Count == 0)
        {
            return;
        }

        List<(CudaTensorBuffer, long)>? stale = null;
        foreach (KeyValuePair<(CudaTensorBuffer Buffer, long Offset), int[]> entry in _hostTokens)
        {
            (CudaTensorBuffer buffer, long offset) = entry.Key;
            if (buffer == written.Buffer && offset < written.Offset + written.Length && written.Offset < offset + entry.Value.Length)
            {
                (stale ??= []).Add(entry.Key);
            }
        }

        foreach ((CudaTensorBuffer, long) key in stale ?? [])
        {
            _hostTokens.Remove(key, out _spareTokens); // reused by the next upload of the same size: no per-step array
        }
    }

    private nint Module(string module)
    {
        if (!_modules.TryGetValue(module, out nint handle))
        {
            byte[] cubin = _cubins.Get(module, _device.Arch);
            handle = _device.LoadModule(cubin, module);
            _modules[module] = handle;
        }

        return handle;
    }

    private nint Function(string module, string name)
    {
        string key = module + ":" + name;
        if (!_functions.TryGetValue(key, out nint function))
        {
            function = _device.GetFunction(Module(module), name);
            _functions[key] = function;
        }

        return function;
    }

    /// <summary>
    /// Threads per block each kernel is launched with: the launches below take their block size from here, and
    /// the resource report checks registers × threads against the SM for exactly these numbers.
    /// </summary>
    public static int LaunchThreads(string kernel) => kernel switch
    {
        "cross_entropy" or "sum_squares_final" => 1024,
        "attention_forward_bf16_d64" or "attention_forward_bf16_d128" => 128,
        "attention_forward_f32" or "attention_backward_query_f32" or "attention_backward_key_value_f32" => AttentionRows,
        _ => Threads,
    };

    /// <summary>A 1-D grid-stride launch over <paramref name="count"/> elements (the grid depends on the count only).</summary>
    private void Launch(string module, string name, long count, void** args)
    {
        if (count <= 0)
        {
            return;
        }

        int threads = LaunchThreads(name);
        uint blocks = (uint)Math.Min((count + threads - 1) / threads, 1L << 20);
        _device.Launch(Function(module, name), name, (blocks, 1, 1), ((uint)threads, 1, 1), 0, args);
    }

    private void Launch(string module, string name, (uint X, uint Y, uint Z) grid, void** args)
        => _device.Launch(Function(module, name), name, grid, ((uint)LaunchThreads(name), 1, 1), 0, args);
}
