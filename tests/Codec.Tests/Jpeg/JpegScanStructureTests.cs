using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>The jpeg-scan-v1 structure fields, byte by byte, against what the real streams' markers and layout say.</summary>
public class JpegScanStructureTests
{
    public static TheoryData<string> Profiles => ["fashion-mnist", "paper"];

    private static (JpegProfile Profile, List<byte[]> Streams) Streams(string name)
    {
        JpegProfile profile = name == "paper" ? JpegProfile.Paper() : JpegProfile.FashionMnist();
        var encoder = new JpegEncoder(ImageCorpus.EncoderOptions(profile));
        var streams = new List<byte[]>();
        for (int i = 0; i < 6; i++)
        {
            PixelImage image = SyntheticImages.Make(profile.Width, profile.Height, 11, i);
            streams.Add(profile.ToTokenBytes(encoder.Encode(ImageCorpus.FitToProfile(image, profile))));
        }

        PixelImage crop = ImageFile.Load(Data("imaging", "crop.ppm"));
        streams.Add(profile.ToTokenBytes(encoder.Encode(ImageCorpus.FitToProfile(crop, profile))));
        return (profile, streams);
    }

    private static string Data(params string[] parts) => JpegLm.TestSupport.TestPaths.Data(parts);

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Fields_follow_the_markers_and_the_block_order_of_real_streams(string name)
    {
        (JpegProfile profile, List<byte[]> streams) = Streams(name);
        JpegScanGrammar grammar = profile.TokenGrammar();
        var structure = new JpegScanStructure(grammar);
        IReadOnlyList<int> sizes = structure.FieldSizes;
        int patches = sizes[0], slotBase = sizes[0], partialBase = sizes[0] + sizes[1];
        int blockSlots = grammar.BlocksPerMcu * 64;
        Span<int> ids = stackalloc int[3];
        foreach (byte[] stream in streams)
        {
            JpegScanState state = structure.Start();
            int markersSeen = 0, lastSlot = -1;
            for (int i = 0; i < stream.Length; i++)
            {
                Assert.True(state.Consume(stream[i]), $"byte {i} refused");
                structure.Fill(state, ids);
                Assert.InRange(ids[0], 0, patches - 1);
                Assert.InRange(ids[1], slotBase, partialBase - 1);
                Assert.InRange(ids[2], partialBase, partialBase + sizes[2] - 1);
                bool afterMarker = i > 0 && stream[i - 1] == 0xFF && stream[i] is >= 0xD0 and <= 0xD7;
                if (afterMarker)
                {
                    markersSeen++;
                    Assert.Equal(slotBase, ids[1]); // block 0, the DC coefficient
                    Assert.Equal(partialBase, ids[2]); // nothing left unfinished
                    lastSlot = -1;
                }

                Assert.Equal(markersSeen, ids[0]); // the patch is the count of restart markers read
                int slot = ids[1] - slotBase;
                if (slot < blockSlots)
                {
                    // Inside a patch (one MCU), the next coefficient only moves forward: block by block, k upwards.
                    Assert.True(slot >= lastSlot, $"slot went back from {lastSlot} to {slot} at byte {i}");
                    lastSlot = slot;
                }
            }

            Assert.Equal(patches - 1, markersSeen);
            Assert.True(state.IsComplete);
            Assert.Equal(slotBase + blockSlots + 1, ids[1]); // a token stream ends expecting a marker it never gets
        }
    }

    [Fact]
    public void A_refused_byte_leaves_a_failed_state_with_a_field_value_of_its_own()
    {
        var structure = new JpegScanStructure(JpegProfile.FashionMnist().TokenGrammar());
        JpegScanState state = structure.Start();
        Span<int> ids = stackalloc int[3];
        Assert.False(state.Consume(0xFF) && state.Consume(0xD9)); // EOI before the first block
        structure.Fill(state, ids);
        Assert.Equal(structure.FieldSizes[0] + (64 * 1) + 5, ids[1]);
    }
}
