using JpegLm.Engine.Kernels;

namespace JpegLm.Engine.Training;

/// <summary>
/// The collective operations data-parallel training needs, over the ranks of one job: the trainer sums the flat
/// gradient buffer once per step after backward, broadcasts the initial weights and the resume state from rank 0,
/// and meets the other ranks at a barrier around checkpoints. Every rank calls the same operations in the same
/// order (MPI's rule). <see cref="SingleProcess"/> is the one-rank group of a plain run; MPI (CPU ranks) and NCCL
/// (GPU ranks) implement it in <c>JpegLm.Cli.Distributed</c>.
/// </summary>
/// <remarks>
/// Sums must be bit-reproducible for a fixed rank count. With two ranks every implementation returns exactly
/// <c>a + b</c> (IEEE addition is commutative), which is what a one-process run adding the two ranks' gradients in
/// rank order computes (<see cref="TrainerOptions.SimulatedRanks"/>). A failure of the group (a dead rank, a
/// timeout) is a <see cref="CollectiveException"/>.
/// </remarks>
public interface ICollectives
{
    /// <summary>A short description for logs, e.g. <c>mpi(Open MPI v4.1.4, 2 ranks)</c>.</summary>
    string Name { get; }

    /// <summary>This process's rank, 0 ≤ Rank &lt; Size.</summary>
    int Rank { get; }

    /// <summary>Number of ranks.</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="buffer"/> on every rank by the element-wise sum over the ranks.</summary>
    void AllReduceSum(Tensor buffer);

    /// <summary>Replaces <paramref name="values"/> (host memory) on every rank by the element-wise sum over the ranks.</summary>
    void AllReduceSum(Span<double> values);

    /// <summary>Copies <paramref name="buffer"/> of rank <paramref name="root"/> into the same buffer on every other rank.</summary>
    void Broadcast(Tensor buffer, int root);

    /// <summary>Copies <paramref name="data"/> (host memory, the same length on every rank) from rank <paramref name="root"/> to the others.</summary>
    void Broadcast(Span<byte> data, int root);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();
}

/// <summary>The one-rank group: every operation leaves its data as it is.</summary>
public sealed class SingleProcess : ICollectives
{
    /// <summary>The single instance.</summary>
    public static SingleProcess Instance { get; } = new();

    private SingleProcess()
    {
    }

    /// <inheritdoc/>
    public string Name => "single process";

    /// <inheritdoc/>
    public int Rank => 0;

    /// <inheritdoc/>
    public int Size => 1;

    /// <inheritdoc/>
    public void AllReduceSum(Tensor buffer)
    {
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> values)
    {
    }

    /// <inheritdoc/>
    public void Broadcast(Tensor buffer, int root) => CheckRoot(root);

    /// <inheritdoc/>
    public void Broadcast(Span<byte> data, int root) => CheckRoot(root);

    /// <inheritdoc/>
    public void Barrier()
    {
    }

    private static void CheckRoot(int root) => ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);
}

/// <summary>
/// A collective operation failed: a rank died or stopped answering, the communication library reported an error,
/// or a library was missing. An error of the environment, not of the input (like <c>CudaException</c>).
/// </summary>
public sealed class CollectiveException : Exception
{
    /// <summary>Creates an exception with a message that names the operation and the rank.</summary>
    public CollectiveException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception wrapping another.</summary>
    public CollectiveException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates an empty exception (for serializers and analyzers; prefer the other constructors).</summary>
    public CollectiveException()
        : this("collective operation failed")
    {
    }
}
