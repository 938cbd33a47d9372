namespace JpegLm.Cuda.Kernels;

/// <summary>
/// Dense (no structured sparsity) peak FLOP/s of the GPUs this project is run on, per precision of
/// <see cref="CudaKernels"/>: bf16 on the tensor cores for <see cref="CudaPrecision.BFloat16"/>, plain fp32 on the
/// CUDA cores for <see cref="CudaPrecision.Float32"/> (its GEMMs keep TF32 off). Figures from NVIDIA's data sheets,
/// at boost clock; a GPU missing here (or the emulated device) has no stated peak, and MFU is reported as n/a rather
/// than against a guess.
/// </summary>
public static class DevicePeaks
{
    // Most specific first: an H100 NVL or PCIe card also contains "H100". Values in TFLOP/s: (bf16 dense, fp32).
    private static readonly (string[] NameParts, int Major, double Bf16, double Fp32)[] Table =
    [
        (["H100", "NVL"], 9, 835, 60),
        (["H200", "NVL"], 9, 835, 60),
        (["H100", "PCIE"], 9, 756, 51),
        (["H100"], 9, 989, 67), // SXM5 (the "80GB HBM3" name)
        (["H200"], 9, 989, 67), // SXM; also matches GH200, whose GPU is an H100/H200 SXM at the same clocks
        (["A100"], 8, 312, 19.5),
    ];

    /// <summary>
    /// The dense peak FLOP/s of the device named <paramref name="deviceName"/> (as <c>cuDeviceGetName</c> gives it)
    /// of compute capability <paramref name="computeMajor"/>, for <paramref name="precision"/>; null when unknown.
    /// </summary>
    public static double? Dense(string deviceName, int computeMajor, CudaPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(deviceName);
        string name = deviceName.ToUpperInvariant();
        foreach ((string[] parts, int major, double bf16, double fp32) in Table)
        {
            if (major == computeMajor && parts.All(p => name.Contains(p, StringComparison.Ordinal)))
            {
                return 1e12 * (precision == CudaPrecision.BFloat16 ? bf16 : fp32);
            }
        }

        return null;
    }
}
