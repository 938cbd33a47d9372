using JpegLm.Engine.Kernels;
using JpegLm.Engine.Training;

namespace JpegLm.Engine.Tests.Training;

/// <summary>
/// An in-process <see cref="ICollectives"/> group of ranks on threads (for tests): sums add the ranks' values in
/// rank order, the order a one-process reference with simulated ranks uses.
/// </summary>
internal sealed class ThreadGroup : IDisposable
{
    private readonly Barrier _barrier;
    private readonly object?[] _slots;

    public ThreadGroup(int size)
    {
        _barrier = new Barrier(size);
        _slots = new object?[size];
        Members = [.. Enumerable.Range(0, size).Select(r => (ICollectives)new Member(this, r))];
    }

    public IReadOnlyList<ICollectives> Members { get; }

    /// <summary>Runs <paramref name="body"/> once per rank, each on its own thread, and rethrows the first failure.</summary>
    public static void Run(int size, Action<ICollectives> body)
    {
        using var group = new ThreadGroup(size);
        Exception? failure = null;
        Thread[] threads = [.. group.Members.Select(m => new Thread(() =>
        {
            try
            {
                body(m);
            }
            catch (Exception e)
            {
                failure ??= e;
                group._barrier.RemoveParticipant();
            }
        }))];
        foreach (Thread t in threads)
        {
            t.Start();
        }

        foreach (Thread t in threads)
        {
            t.Join();
        }

        if (failure != null)
        {
            throw new InvalidOperationException("a rank failed", failure);
        }
    }

    public void Dispose() => _barrier.Dispose();

    private T[][] Gather<T>(int rank, T[] mine)
    {
        _slots[rank] = mine;
        _barrier.SignalAndWait();
        T[][] all = [.. _slots.Select(s => (T[])s!)];
        _barrier.SignalAndWait();
        return all;
    }

    // Rank order: ((r0 + r1) + r2) + …
    private float[] Sum(int rank, float[] mine)
    {
        float[][] all = Gather(rank, mine);
        float[] sum = (float[])all[0].Clone();
        for (int r = 1; r < all.Length; r++)
        {
            for (int i = 0; i < sum.Length; i++)
            {
                sum[i] += all[r][i];
            }
        }

        return sum;
    }

    private double[] Sum(int rank, double[] mine)
    {
        double[][] all = Gather(rank, mine);
        double[] sum = (double[])all[0].Clone();
        for (int r = 1; r < all.Length; r++)
        {
            for (int i = 0; i < sum.Length; i++)
            {
                sum[i] += all[r][i];
            }
        }

        return sum;
    }

    private sealed class Member(ThreadGroup group, int rank) : ICollectives
    {
        public string Name => "threads";

        public int Rank => rank;

        public int Size => group._slots.Length;

        public void AllReduceSum(Tensor buffer)
        {
            IKernels k = buffer.Buffer.Owner;
            float[] mine = new float[buffer.Length];
            k.Download(buffer, mine);
            k.Upload(group.Sum(rank, mine), buffer);
        }

        public void AllReduceSum(Span<double> values) => group.Sum(rank, values.ToArray()).CopyTo(values);

        public void Broadcast(Tensor buffer, int root)
        {
            IKernels k = buffer.Buffer.Owner;
            float[] mine = new float[buffer.Length];
            k.Download(buffer, mine);
            float[] theirs = Publish(mine, root);
            k.Upload(theirs, buffer);
        }

        public void Broadcast(Span<byte> data, int root) => Publish(data.ToArray(), root).CopyTo(data);

        public void Barrier() => group._barrier.SignalAndWait();

        private T[] Publish<T>(T[] mine, int root)
        {
            return group.Gather(rank, mine)[root];
        }
    }
}
