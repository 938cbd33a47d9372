using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests;

public class SharedDataTests
{
    [SkippableFact]
    public void Shared_kodak_photos_are_readable_when_present()
    {
        Skip.If(TestPaths.SharedData is null, "../shared/data is absent: the Kodak photos are only in this workplace");
        string[] files = Directory.GetFiles(Path.Combine(TestPaths.SharedData!, "kodak"), "*.png");
        Assert.Equal(24, files.Length);
    }
}
