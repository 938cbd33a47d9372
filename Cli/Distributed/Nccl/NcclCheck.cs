using System.Globalization;
using JpegLm.Cuda.Interop;
using JpegLm.Cuda.Kernels;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Distributed.Nccl;

/// <summary>
/// <c>jpeglm gpu-check --nccl</c>: the NCCL path on one GPU without MPI. A one-rank communicator is still a real
/// NCCL communicator, so this runs the library's id, init, all-reduce and broadcast on device buffers on the
/// backend's stream — everything a multi-GPU run does except the transport between GPUs.
/// </summary>
internal static class NcclCheck
{
    /// <summary>Runs the check on GPU <paramref name="ordinal"/>; 0 when the sums come back exact, 1 otherwise.</summary>
    public static int Run(int ordinal, TextWriter log)
    {
        CudaKernels kernels;
        NcclLibrary nccl;
        try
        {
            kernels = CudaKernels.Create(CudaPrecision.Float32, ordinal);
            nccl = NcclLibrary.Load();
        }
        catch (Exception e) when (e is CudaException or DllNotFoundException or EntryPointNotFoundException or CollectiveException)
        {
            log.WriteLine($"nccl: FAIL (cannot start: {e.Message})");
            return 1;
        }

        using (kernels)
        using (NcclCollectives group = NcclCollectives.Create(nccl, kernels, SingleProcess.Instance, TimeSpan.FromSeconds(60), log))
        {
            // Values whose sum over one rank is themselves, exactly: any change means a wrong pointer, count or type.
            const int Count = 1 << 20;
            float[] expected = new float[Count];
            for (int i = 0; i < Count; i++)
            {
                expected[i] = (i % 1021) - 510.5f;
            }

            using ITensorBuffer buffer = kernels.Allocate(Count);
            Tensor t = Tensor.Of(buffer);
            kernels.Upload(expected, t);
            group.AllReduceSum(t);
            group.Broadcast(t, 0);
            float[] back = new float[Count];
            kernels.Download(t, back);
            int wrong = 0;
            for (int i = 0; i < Count; i++)
            {
                wrong += back[i] == expected[i] ? 0 : 1;
            }

            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"nccl: {group.Name}; all-reduce and broadcast of {Count} floats on the device: {wrong} wrong"));
            log.WriteLine(wrong == 0 ? "nccl: PASS" : "nccl: FAIL");
            return wrong == 0 ? 0 : 1;
        }
    }
}
