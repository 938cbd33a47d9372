using JpegLm.Cli.Distributed;
using System.Runtime.InteropServices;
using JpegLm.Cuda.Interop;
using JpegLm.Cli.Distributed.Nccl;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Tests.Distributed;

/// <summary>
/// The NCCL binding's argument passing on the CPU, against a fake <c>libnccl.so.2</c> of
/// <see cref="UnmanagedCallersOnlyAttribute"/> functions: the unique id travels from rank 0 over the host group and
/// reaches <c>ncclCommInitRank</c> by value, collectives get the device pointer, the count, <c>ncclFloat32</c>,
/// <c>ncclSum</c>, the communicator and the backend's stream. A real all-reduce needs a GPU (the GPU script).
/// </summary>
[Collection(nameof(FakeNativeCollection))]
public unsafe class NcclBindingTests
{
    private const nint Comm = 0xC0FFEE, Stream = 0x5EED;

    private static readonly List<string> Calls = [];
    private static readonly nint ErrorText = Marshal.StringToCoTaskMemUTF8("fake nccl error"); // native: never moves
    private static byte[] s_initId = [];
    private static int s_asyncError;

    private static NcclLibrary Library()
    {
        Calls.Clear();
        s_asyncError = 0;
        var exports = new Dictionary<string, nint>
        {
            ["ncclGetVersion"] = (nint)(delegate* unmanaged<int*, int>)&GetVersion,
            ["ncclGetUniqueId"] = (nint)(delegate* unmanaged<NcclUniqueId*, int>)&GetUniqueId,
            ["ncclCommInitRank"] = (nint)(delegate* unmanaged<nint*, int, NcclUniqueId, int, int>)&CommInitRank,
            ["ncclAllReduce"] = (nint)(delegate* unmanaged<void*, void*, nuint, int, int, nint, nint, int>)&AllReduce,
            ["ncclBroadcast"] = (nint)(delegate* unmanaged<void*, void*, nuint, int, int, nint, nint, int>)&Broadcast,
            ["ncclCommDestroy"] = (nint)(delegate* unmanaged<nint, int>)&CommDestroy,
            ["ncclCommAbort"] = (nint)(delegate* unmanaged<nint, int>)&CommAbort,
            ["ncclCommGetAsyncError"] = (nint)(delegate* unmanaged<nint, int*, int>)&CommGetAsyncError,
            ["ncclGetErrorString"] = (nint)(delegate* unmanaged<int, byte*>)&GetErrorString,
        };
        return new NcclLibrary("fake-libnccl", name => exports.GetValueOrDefault(name));
    }

    /// <summary>A host group of two that records what it broadcasts (rank 1 receives bytes 200, 201, …).</summary>
    private sealed class FakeHost(int rank) : ICollectives
    {
        public List<byte[]> Broadcasts { get; } = [];

        public int Barriers { get; private set; }

        public string Name => "fake-mpi";

        public int Rank => rank;

        public int Size => 2;

        public void AllReduceSum(Tensor buffer) => throw new InvalidOperationException("tensors go through NCCL");

        public void AllReduceSum(Span<double> values) => values[0] += 1;

        public void Broadcast(Tensor buffer, int root) => throw new InvalidOperationException("tensors go through NCCL");

        public void Broadcast(Span<byte> data, int root)
        {
            if (rank != root)
            {
                for (int i = 0; i < data.Length; i++)
                {
                    data[i] = (byte)(200 + i);
                }
            }

            Broadcasts.Add(data.ToArray());
        }

        public void Barrier() => Barriers++;
    }

    private static NcclCollectives Create(NcclLibrary nccl, FakeHost host, Action? synchronize = null, double timeout = 60, TextWriter? log = null)
        => NcclCollectives.Create(nccl, host, t => 0xD0000000UL + ((ulong)t.Offset * 4), Stream, () => Calls.Add("makeCurrent"), synchronize ?? (() => Calls.Add("synchronize")),
            TimeSpan.FromSeconds(timeout), log ?? new StringWriter());

    [Fact]
    public void Rank_0_makes_the_unique_id_and_every_rank_passes_the_shared_one_by_value()
    {
        NcclLibrary nccl = Library();
        var host0 = new FakeHost(0);
        using (NcclCollectives c = Create(nccl, host0))
        {
            Assert.Equal(Enumerable.Range(0, 128).Select(i => (byte)i), host0.Broadcasts.Single());
            Assert.Equal(host0.Broadcasts[0], s_initId);
            Assert.Equal(["getUniqueId", "makeCurrent", "commInitRank(2 ranks, rank 0)", "getVersion"], Calls);
            Assert.Equal("nccl(2.23.4, 2 ranks, bootstrap fake-mpi)", c.Name);
        }

        Assert.Equal("commDestroy(0xc0ffee)", Calls[^1]);
        var host1 = new FakeHost(1);
        using NcclCollectives c1 = Create(Library(), host1);
        Assert.DoesNotContain("getUniqueId", Calls);
        Assert.Equal(Enumerable.Range(0, 128).Select(i => (byte)(200 + i)), s_initId);
        Assert.Contains("commInitRank(2 ranks, rank 1)", Calls);
    }

    [Fact]
    public void All_reduce_and_broadcast_are_in_place_on_the_device_pointer_and_the_kernels_stream()
    {
        var host = new FakeHost(0);
        using NcclCollectives c = Create(Library(), host);
        using var kernels = new CpuKernels();
        using ITensorBuffer buffer = kernels.Allocate(100);
        Calls.Clear();
        c.AllReduceSum(Tensor.Of(buffer).Slice(10, 90));
        c.Broadcast(Tensor.Of(buffer).Slice(0, 7), 1);
        Assert.Equal([
            "makeCurrent", "allReduce(0xd0000028, 0xd0000028, 90, type 7, op 0, 0xc0ffee, 0x5eed)", "synchronize", "asyncError(0xc0ffee)",
            "makeCurrent", "broadcast(0xd0000000, 0xd0000000, 7, type 7, root 1, 0xc0ffee, 0x5eed)", "synchronize", "asyncError(0xc0ffee)"], Calls);
        // Host values and the barrier go through the host group (after the stream is drained).
        double[] loss = [1];
        c.AllReduceSum(loss);
        c.Barrier();
        Assert.Equal((2.0, 1), (loss[0], host.Barriers));
        Assert.Throws<ArgumentOutOfRangeException>(() => c.Broadcast(Tensor.Of(buffer), 2));
    }

    [Fact]
    public void An_error_a_peer_raised_while_the_sum_ran_is_reported()
    {
        using NcclCollectives c = Create(Library(), new FakeHost(0));
        using var kernels = new CpuKernels();
        using ITensorBuffer buffer = kernels.Allocate(4);
        s_asyncError = 6;
        var e = Assert.Throws<CollectiveException>(() => c.AllReduceSum(Tensor.Of(buffer)));
        Assert.Contains("ncclAllReduce on rank 0 of 2: ncclRemoteError (fake nccl error), raised while it ran", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stream_that_never_finishes_makes_the_watchdog_abort_the_communicator()
    {
        var log = new StringWriter();
        using NcclCollectives c = Create(Library(), new FakeHost(1), synchronize: () => Thread.Sleep(1500), timeout: 0.2, log: log);
        using var kernels = new CpuKernels();
        using ITensorBuffer buffer = kernels.Allocate(4);
        var e = Assert.Throws<CollectiveException>(() => c.AllReduceSum(Tensor.Of(buffer)));
        Assert.Contains("ncclAllReduce on rank 1 of 2 did not finish: a rank has died or hangs", e.Message, StringComparison.Ordinal);
        Assert.Contains("commAbort(0xc0ffee)", Calls);
        Assert.Contains("rank 1 of 2: no answer from the other ranks in ncclAllReduce for 0.2 s", log.ToString(), StringComparison.Ordinal);
        Assert.Throws<CollectiveException>(() => c.AllReduceSum(Tensor.Of(buffer)));
    }

    [Fact]
    public void A_failing_call_names_the_call_and_the_result()
    {
        var e = Assert.Throws<CollectiveException>(() => Library().Check(4, "ncclCommInitRank"));
        Assert.Equal("ncclCommInitRank failed: ncclInvalidArgument (fake nccl error)", e.Message);
    }

    [Fact]
    public void Nccl_is_searched_by_soname_then_in_the_toolkit_and_pip_folders()
    {
        var probe = new FakeProbe();
        probe.Files.Add("/usr/local/cuda-12.4/lib64/libnccl.so.2");
        probe.Files.Add("/usr/local/lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2");
        probe.Files.Add("/usr/local/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.12");
        Assert.Equal(["libnccl.so.2", "/usr/local/cuda-12.4/lib64/libnccl.so.2", "/usr/local/lib/python3.12/site-packages/nvidia/nccl/lib/libnccl.so.2"],
            NcclLibrary.Candidates(probe));
        var e = Assert.Throws<CollectiveException>(() => NcclLibrary.Load(probe));
        Assert.Contains("cannot load NCCL (libnccl.so.2: not here; /usr/local/cuda-12.4/lib64/libnccl.so.2: not here;", e.Message, StringComparison.Ordinal);
        probe.Env[NcclLibrary.OverrideVariable] = "/opt/nccl/libnccl.so.2";
        e = Assert.Throws<CollectiveException>(() => NcclLibrary.Load(probe));
        Assert.StartsWith("cannot load NCCL (/opt/nccl/libnccl.so.2: not here)", e.Message, StringComparison.Ordinal);
    }

    private sealed class FakeProbe : ILibraryProbe
    {
        public Dictionary<string, string> Env { get; } = [];

        public HashSet<string> Files { get; } = [];

        public string? Environment(string name) => Env.GetValueOrDefault(name);

        public IEnumerable<string> Subdirectories(string parent)
        {
            string prefix = parent.TrimEnd('/') + "/";
            return Files.Where(f => f.StartsWith(prefix, StringComparison.Ordinal)).Select(f => prefix + f[prefix.Length..].Split('/')[0])
                .Where(d => Files.Any(f => f.StartsWith(d + "/", StringComparison.Ordinal))).Distinct();
        }

        public bool FileExists(string path) => Files.Contains(path);

        public nint TryLoad(string nameOrPath, out string? error)
        {
            error = "not here";
            return 0;
        }

        public void Free(nint handle)
        {
        }
    }

    [UnmanagedCallersOnly]
    private static int GetVersion(int* version)
    {
        Calls.Add("getVersion");
        *version = 22304;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int GetUniqueId(NcclUniqueId* id)
    {
        Calls.Add("getUniqueId");
        Span<byte> bytes = id->AsSpan();
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)i;
        }

        return 0;
    }

    [UnmanagedCallersOnly]
    private static int CommInitRank(nint* comm, int ranks, NcclUniqueId id, int rank)
    {
        Calls.Add($"commInitRank({ranks} ranks, rank {rank})");
        s_initId = id.AsSpan().ToArray();
        *comm = Comm;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int AllReduce(void* send, void* recv, nuint count, int type, int op, nint comm, nint stream)
    {
        Calls.Add($"allReduce(0x{(nint)send:x}, 0x{(nint)recv:x}, {count}, type {type}, op {op}, 0x{comm:x}, 0x{stream:x})");
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int Broadcast(void* send, void* recv, nuint count, int type, int root, nint comm, nint stream)
    {
        Calls.Add($"broadcast(0x{(nint)send:x}, 0x{(nint)recv:x}, {count}, type {type}, root {root}, 0x{comm:x}, 0x{stream:x})");
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int CommDestroy(nint comm)
    {
        Calls.Add($"commDestroy(0x{comm:x})");
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int CommAbort(nint comm)
    {
        lock (Calls)
        {
            Calls.Add($"commAbort(0x{comm:x})");
        }

        return 0;
    }

    [UnmanagedCallersOnly]
    private static int CommGetAsyncError(nint comm, int* error)
    {
        Calls.Add($"asyncError(0x{comm:x})");
        *error = s_asyncError;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static byte* GetErrorString(int result) => (byte*)ErrorText;
}
