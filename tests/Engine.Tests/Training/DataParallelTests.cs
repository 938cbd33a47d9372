using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;
using JpegLm.Engine.Tests.Model;
using JpegLm.Engine.Training;
using JpegLm.TestSupport;
using static JpegLm.Engine.Tests.GradientCheck;

namespace JpegLm.Engine.Tests.Training;

/// <summary>
/// Data-parallel training without MPI: ranks on threads (<see cref="ThreadGroup"/>, summing in rank order) against the
/// one-process reference that plays the ranks in turn (<see cref="TrainerOptions.SimulatedRanks"/>).
/// </summary>
public class DataParallelTests
{
    private static readonly TrainerOptions Options = new()
    {
        BatchSize = 2, SequenceLength = 8, GradientAccumulation = 2, MaxSteps = 5, WarmupSteps = 2, LearningRate = 1e-2f, MinLearningRate = 1e-3f,
        GradientClip = 0.5f, ValidationInterval = 2, ValidationBatches = 2, Seed = 5,
    };

    private static readonly LlamaConfig Config = LlamaModelTests.Tiny() with { Structure = "test-mod", StructureFields = [3, 4] };

    private static InMemoryTokenSource Data(int count, ulong seed)
    {
        var rng = new SplitMixRandom(seed);
        return new InMemoryTokenSource([.. Enumerable.Range(0, count).Select(_ => (int)rng.NextInt64(11))]);
    }

    /// <summary>Structure ids that depend on the token and its predecessor, so a wrong row shows.</summary>
    private sealed class ModAnnotator : ITokenAnnotator
    {
        private int _previous;

        public int FieldCount => 2;

        public void Annotate(int token, Span<int> ids)
        {
            ids[0] = token % 3;
            ids[1] = (token + _previous) % 4;
            _previous = token;
        }
    }

    private sealed record Run(float[] Weights, float[]? Moments, List<TrainingRecord> Log, long Position);

    private static Run Train(TrainerOptions options, ICollectives? group, ulong initSeed, string? resumeFrom = null, string? saveTo = null, int steps = 5)
    {
        InMemoryTokenSource train = Data(300, 1), validation = Data(100, 2);
        var model = new LlamaModel(Config, new CpuKernels());
        model.InitializeWeights(initSeed);
        using var trainer = new Trainer(model, options, train, validation,
            TokenStructure.Annotate(train, () => new ModAnnotator(), 0), TokenStructure.Annotate(validation, () => new ModAnnotator(), 0), group);
        if (resumeFrom != null && (group?.Rank ?? 0) == 0)
        {
            trainer.Resume(resumeFrom);
        }

        trainer.BroadcastState();
        var log = new List<TrainingRecord>();
        trainer.StepCompleted += log.Add;
        trainer.Run(steps);
        if (saveTo != null)
        {
            trainer.SaveCheckpoint(saveTo);
        }

        // Only rank 0 writes: the others' moments are checked through their weights.
        string dir = TestPaths.NewTempDirectory();
        trainer.SaveCheckpoint(dir);
        float[]? m = null;
        if (File.Exists(Path.Combine(dir, Trainer.StateFile)))
        {
            using SafetensorsFile state = SafetensorsFile.Open(Path.Combine(dir, Trainer.StateFile));
            m = new float[model.Layout.Length];
            state.Read("adamw.m", m);
        }

        var run = new Run(Get(model.Kernels, model.Weights), m, log, trainer.DataPosition);
        model.Dispose();
        Directory.Delete(dir, true);
        return run;
    }

    [Fact]
    public void Two_ranks_on_threads_match_the_one_process_reference_bit_for_bit()
    {
        Run reference = Train(Options with { SimulatedRanks = 2 }, null, 7);
        var ranks = new Run[2];
        // Rank 1 starts from other weights: the broadcast must replace them.
        ThreadGroup.Run(2, g => ranks[g.Rank] = Train(Options, g, g.Rank == 0 ? 7UL : 99UL));

        Assert.NotNull(reference.Moments);
        Assert.Equal(reference.Moments, ranks[0].Moments);
        Assert.Null(ranks[1].Moments);
        foreach (Run rank in ranks)
        {
            Assert.Equal(reference.Weights, rank.Weights);
            Assert.Equal(reference.Position, rank.Position);
            Assert.Equal(reference.Log.Select(r => (r.Loss, r.GradientNorm, r.ValidationLoss)), rank.Log.Select(r => (r.Loss, r.GradientNorm, r.ValidationLoss)));
        }

        Assert.NotNull(reference.Log[1].ValidationLoss);
        Assert.True(reference.Log[^1].Loss < reference.Log[0].Loss);
        // Two ranks see other data than one: the reference is not the one-rank run.
        Assert.NotEqual(Train(Options, null, 7).Weights, reference.Weights);
    }

    [Fact]
    public void A_resumed_two_rank_run_continues_exactly()
    {
        Run straight = Train(Options with { SimulatedRanks = 2 }, null, 7);
        string dir = TestPaths.NewTempDirectory();
        ThreadGroup.Run(2, g => Train(Options, g, 7, saveTo: dir, steps: 2));
        // Only rank 0 reads the checkpoint; rank 1 gets everything from it.
        var resumed = new Run[2];
        ThreadGroup.Run(2, g => resumed[g.Rank] = Train(Options, g, 123, resumeFrom: g.Rank == 0 ? dir : null, steps: 3));
        Assert.Equal(straight.Weights, resumed[1].Weights);
        Assert.Equal(straight.Moments, resumed[0].Moments);
        Assert.Equal(straight.Log.Skip(2).Select(r => r.Loss), resumed[1].Log.Select(r => r.Loss));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Simulated_ranks_cannot_be_combined_with_real_ones()
    {
        ThreadGroup.Run(2, g =>
        {
            using var model = new LlamaModel(LlamaModelTests.Tiny(), new CpuKernels());
            Assert.Throws<ArgumentException>(() => new Trainer(model, Options with { SimulatedRanks = 2 }, Data(300, 1), collectives: g));
        });
    }

    [Fact]
    public void Ranks_read_disjoint_strided_rows_whose_union_is_the_sequential_batch()
    {
        var source = new InMemoryTokenSource([.. Enumerable.Range(0, 50)]);
        var sequential = new BatchLoader(source, 6, 4);
        sequential.Position = 36; // near the end: the rows wrap
        var strided = new BatchLoader(source, 3, 4) { Position = 36 };
        int[] all = new int[24], allTargets = new int[24];
        sequential.Next(all, allTargets);
        int[][] rank = [new int[12], new int[12]];
        for (int r = 0; r < 2; r++)
        {
            strided.Fill(rank[r], new int[12], null, default, r, 2);
        }

        // Row j of the sequential batch is row j / 2 of rank j % 2.
        for (int j = 0; j < 6; j++)
        {
            Assert.Equal(all.AsSpan(j * 4, 4).ToArray(), rank[j % 2].AsSpan(j / 2 * 4, 4).ToArray());
        }

        Assert.Equal([36, 40, 44, 0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 0], Enumerable.Range(0, 16).Select(j => strided.RowStart(j)));
        strided.Advance(6);
        Assert.Equal(sequential.Position, strided.Position);
    }
}
