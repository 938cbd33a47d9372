using JpegLm.Cuda.Kernels;

namespace JpegLm.Cuda.Tests.Kernels;

public sealed class DeviceMemoryPoolTests
{
    [Theory]
    [InlineData(1, 256)]
    [InlineData(256, 256)]
    [InlineData(257, 512)]
    [InlineData(1 << 20, 1 << 20)]
    [InlineData((1 << 20) + 1, 2 << 20)]
    [InlineData((40L << 20) + 5, 64L << 20)]
    [InlineData((64L << 20) + 1, 66L << 20)]
    public void Size_classes_round_up(long bytes, long expected) => Assert.Equal(expected, DeviceMemoryPool.SizeClass(bytes));

    [Fact]
    public void Size_class_never_shrinks_a_request()
    {
        for (long bytes = 1; bytes < 1L << 34; bytes = bytes * 3 + 7)
        {
            long size = DeviceMemoryPool.SizeClass(bytes);
            Assert.True(size >= bytes && size % 256 == 0, $"{bytes} -> {size}");
        }
    }
}
