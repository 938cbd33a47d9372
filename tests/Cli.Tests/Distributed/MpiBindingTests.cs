using JpegLm.Cli.Distributed;
using System.Runtime.InteropServices;
using System.Text;
using JpegLm.Cli.Distributed.Mpi;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Tests.Distributed;

/// <summary>
/// The MPI binding's argument passing, against a fake Open MPI made of <see cref="UnmanagedCallersOnlyAttribute"/>
/// functions (no libmpi needed): handles are the fake globals' addresses, <c>MPI_IN_PLACE</c> is 1, counts, roots and
/// buffers arrive as given, and error codes become a <see cref="CollectiveException"/>. The real library runs in the
/// Cli tests under <c>mpirun</c>.
/// </summary>
[Collection(nameof(FakeNativeCollection))]
public unsafe class MpiBindingTests
{
    private const nint World = 0x1000, FloatType = 0x1010, DoubleType = 0x1020, ByteType = 0x1030, SumOp = 0x1040, Errors = 0x1050;

    private static readonly List<string> Calls = [];
    private static int s_failWith;
    private static int s_barrierSleepMs;

    private static Dictionary<string, nint> Exports() => new()
    {
        ["ompi_mpi_comm_world"] = World,
        ["ompi_mpi_float"] = FloatType,
        ["ompi_mpi_double"] = DoubleType,
        ["ompi_mpi_byte"] = ByteType,
        ["ompi_mpi_op_sum"] = SumOp,
        ["ompi_mpi_errors_return"] = Errors,
        ["MPI_Initialized"] = (nint)(delegate* unmanaged<int*, int>)&Initialized,
        ["MPI_Finalized"] = (nint)(delegate* unmanaged<int*, int>)&Finalized,
        ["MPI_Init_thread"] = (nint)(delegate* unmanaged<int*, nint*, int, int*, int>)&InitThread,
        ["MPI_Comm_rank"] = (nint)(delegate* unmanaged<nint, int*, int>)&CommRank,
        ["MPI_Comm_size"] = (nint)(delegate* unmanaged<nint, int*, int>)&CommSize,
        ["MPI_Comm_set_errhandler"] = (nint)(delegate* unmanaged<nint, nint, int>)&SetErrhandler,
        ["MPI_Allreduce"] = (nint)(delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)&Allreduce,
        ["MPI_Bcast"] = (nint)(delegate* unmanaged<void*, int, nint, int, nint, int>)&Bcast,
        ["MPI_Barrier"] = (nint)(delegate* unmanaged<nint, int>)&Barrier,
        ["MPI_Abort"] = (nint)(delegate* unmanaged<nint, int, int>)&Abort,
        ["MPI_Finalize"] = (nint)(delegate* unmanaged<int>)&Finalize,
        ["MPI_Error_string"] = (nint)(delegate* unmanaged<int, byte*, int*, int>)&ErrorString,
        ["MPI_Get_library_version"] = (nint)(delegate* unmanaged<byte*, int*, int>)&LibraryVersion,
    };

    private static MpiCollectives Open(StringWriter log, double timeoutSeconds = 60)
    {
        Calls.Clear();
        s_failWith = 0;
        s_barrierSleepMs = 0;
        Dictionary<string, nint> exports = Exports();
        var mpi = new MpiLibrary("fake-libmpi", name => exports.GetValueOrDefault(name));
        return MpiCollectives.Initialize(mpi, TimeSpan.FromSeconds(timeoutSeconds), log);
    }

    [Fact]
    public void Initialization_asks_for_thread_multiple_and_returned_errors_then_reads_rank_and_size()
    {
        using MpiCollectives mpi = Open(new StringWriter());
        Assert.Equal(["Initialized", "Init_thread(required 3)", "Comm_set_errhandler(0x1000, 0x1050)", "Comm_rank(0x1000)", "Comm_size(0x1000)"], Calls.Take(5));
        Assert.Equal((1, 2), (mpi.Rank, mpi.Size));
        Assert.Equal("mpi(Fake MPI v9.9, 2 ranks)", mpi.Name);
        mpi.Dispose();
        Assert.Equal(["Finalized", "Finalize"], Calls.TakeLast(2));
    }

    [Fact]
    public void Tensor_sum_is_in_place_on_the_cpu_buffer_with_float_and_sum_handles()
    {
        using MpiCollectives mpi = Open(new StringWriter());
        using var kernels = new CpuKernels();
        using ITensorBuffer buffer = kernels.Allocate(10);
        Tensor t = Tensor.Of(buffer).Slice(2, 5);
        kernels.Upload([1, 2, 3, 4, 5], t);
        Calls.Clear();
        mpi.AllReduceSum(t);
        fixed (float* p = CpuKernels.Span(t))
        {
            Assert.Equal([$"Allreduce(send 0x1, recv 0x{(nint)p:x}, count 5, 0x1010, 0x1040, 0x1000)"], Calls);
        }

        // The fake adds rank 0's ones: the data really was the tensor's.
        float[] host = new float[5];
        kernels.Download(t, host);
        Assert.Equal([2f, 3, 4, 5, 6], host);
    }

    [Fact]
    public void Host_values_and_bytes_use_double_byte_and_the_root()
    {
        using MpiCollectives mpi = Open(new StringWriter());
        Calls.Clear();
        double[] values = [0.5, 1.5];
        mpi.AllReduceSum(values);
        Assert.Equal([1.5, 2.5], values);
        byte[] bytes = new byte[7];
        mpi.Broadcast(bytes, 1);
        Assert.StartsWith("Allreduce(send 0x1, recv 0x", Calls[0], StringComparison.Ordinal);
        Assert.EndsWith(", count 2, 0x1020, 0x1040, 0x1000)", Calls[0], StringComparison.Ordinal);
        Assert.Equal("Bcast(count 7, 0x1030, root 1, 0x1000)", Calls[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => mpi.Broadcast(bytes, 2));
    }

    [Fact]
    public void An_error_code_becomes_a_collective_exception_with_mpi_s_text()
    {
        using MpiCollectives mpi = Open(new StringWriter());
        s_failWith = 14;
        var e = Assert.Throws<CollectiveException>(() => mpi.Barrier());
        Assert.Contains("MPI_Barrier failed on rank 1 of 2: fake error 14 (MPI error 14)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_call_that_waits_past_the_timeout_aborts_the_job_and_says_why()
    {
        var log = new StringWriter();
        using MpiCollectives mpi = Open(log, timeoutSeconds: 0.2);
        s_barrierSleepMs = 1500;
        mpi.Barrier();
        Assert.Contains("Abort(0x1000, 1)", Calls);
        Assert.Contains("rank 1 of 2: no answer from the other ranks in MPI_Barrier for 0.2 s: a rank has died or hangs; aborting every rank", log.ToString(), StringComparison.Ordinal);
        int calls = Calls.Count;
        mpi.Dispose();
        Assert.Equal(calls, Calls.Count); // an aborted job is not finalized
    }

    [Fact]
    public void A_library_without_open_mpi_s_globals_is_refused()
    {
        Dictionary<string, nint> exports = Exports();
        exports.Remove("ompi_mpi_comm_world");
        var e = Assert.Throws<CollectiveException>(() => new MpiLibrary("libmpi.so.12", name => exports.GetValueOrDefault(name)));
        Assert.Contains("libmpi.so.12 has no ompi_mpi_comm_world: JpegLm binds Open MPI's ABI", e.Message, StringComparison.Ordinal);
    }

    private static void Record(string call)
    {
        lock (Calls)
        {
            Calls.Add(call);
        }
    }

    [UnmanagedCallersOnly]
    private static int Initialized(int* flag)
    {
        Record("Initialized");
        *flag = 0;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int Finalized(int* flag)
    {
        Record("Finalized");
        *flag = 0;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int InitThread(int* argc, nint* argv, int required, int* provided)
    {
        Record($"Init_thread(required {required})");
        *provided = required;
        return argc == null && argv == null ? 0 : 99;
    }

    [UnmanagedCallersOnly]
    private static int CommRank(nint comm, int* rank)
    {
        Record($"Comm_rank(0x{comm:x})");
        *rank = 1;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int CommSize(nint comm, int* size)
    {
        Record($"Comm_size(0x{comm:x})");
        *size = 2;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int SetErrhandler(nint comm, nint handler)
    {
        Record($"Comm_set_errhandler(0x{comm:x}, 0x{handler:x})");
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int Allreduce(void* send, void* recv, int count, nint type, nint op, nint comm)
    {
        Record($"Allreduce(send 0x{(nint)send:x}, recv 0x{(nint)recv:x}, count {count}, 0x{type:x}, 0x{op:x}, 0x{comm:x})");
        for (int i = 0; i < count; i++)
        {
            if (type == FloatType)
            {
                ((float*)recv)[i] += 1;
            }
            else
            {
                ((double*)recv)[i] += 1;
            }
        }

        return s_failWith;
    }

    [UnmanagedCallersOnly]
    private static int Bcast(void* buffer, int count, nint type, int root, nint comm)
    {
        Record($"Bcast(count {count}, 0x{type:x}, root {root}, 0x{comm:x})");
        return s_failWith;
    }

    [UnmanagedCallersOnly]
    private static int Barrier(nint comm)
    {
        Record($"Barrier(0x{comm:x})");
        Thread.Sleep(s_barrierSleepMs);
        return s_failWith;
    }

    [UnmanagedCallersOnly]
    private static int Abort(nint comm, int code)
    {
        Record($"Abort(0x{comm:x}, {code})");
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int Finalize()
    {
        Record("Finalize");
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int ErrorString(int code, byte* text, int* length)
    {
        byte[] message = Encoding.UTF8.GetBytes($"fake error {code}");
        message.CopyTo(new Span<byte>(text, message.Length));
        *length = message.Length;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int LibraryVersion(byte* text, int* length)
    {
        byte[] message = Encoding.UTF8.GetBytes("Fake MPI v9.9, package: test\n");
        message.CopyTo(new Span<byte>(text, message.Length));
        *length = message.Length;
        return 0;
    }
}

/// <summary>Tests whose fakes record into static state run one class at a time.</summary>
[CollectionDefinition(nameof(FakeNativeCollection), DisableParallelization = true)]
public sealed class FakeNativeCollection
{
}
