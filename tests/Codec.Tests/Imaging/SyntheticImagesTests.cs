using System.Security.Cryptography;
using JpegLm.Codec.Imaging;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Imaging;

public class SyntheticImagesTests
{
    [Fact]
    public void Same_seed_and_index_give_the_same_pixels_and_others_differ()
    {
        PixelImage a = SyntheticImages.Make(32, 32, 42, 3), b = SyntheticImages.Make(32, 32, 42, 3);
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.NotEqual(a.Pixels, SyntheticImages.Make(32, 32, 42, 4).Pixels);
        Assert.NotEqual(a.Pixels, SyntheticImages.Make(32, 32, 43, 3).Pixels);
    }

    [Fact]
    public void The_set_is_stable_across_machines()
    {
        // The demo's data must not change silently: pin a digest of the first images.
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int i = 0; i < 8; i++)
        {
            sha.AppendData(SyntheticImages.Make(32, 32, 2024, i).Pixels);
        }

        Snapshot.VerifyText("synthetic-images-digest", Convert.ToHexString(sha.GetHashAndReset()) + "\n");
    }

    [Fact]
    public void Write_a_contact_sheet_for_inspection()
    {
        var sheet = new PixelImage(32 * 8, 32, 3);
        for (int i = 0; i < 8; i++)
        {
            PixelImage img = SyntheticImages.Make(32, 32, 2024, i);
            for (int y = 0; y < 32; y++)
            {
                img.Row(y).CopyTo(sheet.Row(y).Slice(i * 32 * 3, 32 * 3));
            }
        }

        Snapshot.VerifyImage("synthetic-images-sheet", sheet);
    }
}
