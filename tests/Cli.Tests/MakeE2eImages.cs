using JpegLm.Codec.Imaging;
using JpegLm.TestSupport;

namespace JpegLm.Cli.Tests;

/// <summary>Regenerates testdata/e2e/images (run with JPEGLM_MAKE_E2E_IMAGES=1); otherwise checks they are there.</summary>
public class MakeE2eImages
{
    [Fact]
    public void The_committed_e2e_images_are_the_synthetic_set()
    {
        string dir = TestPaths.Data("e2e", "images");
        if (Environment.GetEnvironmentVariable("JPEGLM_MAKE_E2E_IMAGES") == "1")
        {
            Directory.CreateDirectory(dir);
            for (int i = 0; i < 60; i++)
            {
                ImageFile.Save(Path.Combine(dir, $"img{i:D3}.png"), SyntheticImages.Make(32, 32, 77, i));
            }
        }

        for (int i = 0; i < 60; i++)
        {
            PixelImage committed = ImageFile.Load(Path.Combine(dir, $"img{i:D3}.png"));
            Assert.Equal(SyntheticImages.Make(32, 32, 77, i).Pixels, committed.Pixels);
        }
    }
}
