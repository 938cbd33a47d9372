namespace JpegLm.Engine.Model;

/// <summary>
/// SplitMix64: a tiny, fully specified generator whose whole state is one <see cref="ulong"/>, so weight
/// initialization and sampling are reproducible across runtimes and the state fits in a checkpoint.
/// </summary>
public sealed class SplitMixRandom(ulong seed)
{
    /// <summary>The whole generator state (save it to resume the exact stream).</summary>
    public ulong State { get; set; } = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>An integer in [0, <paramref name="bound"/>).</summary>
    public long NextInt64(long bound) => (long)(NextDouble() * bound);

    /// <summary>A standard normal sample (Box–Muller, one value per call).</summary>
    public float NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
