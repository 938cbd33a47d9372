using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;
using JpegLm.Engine.Tests.Model;
using JpegLm.Engine.Training;
using JpegLm.TestSupport;
using static JpegLm.Engine.Tests.GradientCheck;

namespace JpegLm.Engine.Tests.Training;

public class TrainerTests
{
    private static readonly TrainerOptions Options = new()
    {
        BatchSize = 2, SequenceLength = 8, GradientAccumulation = 2, MaxSteps = 6, WarmupSteps = 2, LearningRate = 1e-2f, MinLearningRate = 1e-3f,
        GradientClip = 0.5f, ValidationInterval = 2, ValidationBatches = 2, Seed = 5,
    };

    private static InMemoryTokenSource Data(int count, ulong seed)
    {
        var rng = new SplitMixRandom(seed);
        return new InMemoryTokenSource([.. Enumerable.Range(0, count).Select(_ => (int)rng.NextInt64(11))]);
    }

    private static (LlamaModel, Trainer) NewRun()
    {
        var model = new LlamaModel(LlamaModelTests.Tiny(), new CpuKernels());
        model.InitializeWeights(Options.Seed);
        return (model, new Trainer(model, Options, Data(300, 1), Data(100, 2)));
    }

    [Fact]
    public void Resuming_from_a_checkpoint_reproduces_a_straight_run_bit_for_bit()
    {
        (LlamaModel straightModel, Trainer straight) = NewRun();
        var straightLog = new List<TrainingRecord>();
        straight.StepCompleted += straightLog.Add;
        straight.Run(6);

        string dir = TestPaths.NewTempDirectory();
        (LlamaModel firstModel, Trainer first) = NewRun();
        first.Run(3);
        first.SaveCheckpoint(dir);
        first.Dispose();
        firstModel.Dispose();

        // A fresh model with different weights: everything must come from the checkpoint.
        var resumedModel = new LlamaModel(LlamaModelTests.Tiny(), new CpuKernels());
        resumedModel.InitializeWeights(999);
        using var resumed = new Trainer(resumedModel, Options, Data(300, 1), Data(100, 2));
        resumed.Resume(dir);
        Assert.Equal(3, resumed.Step);
        var resumedLog = new List<TrainingRecord>();
        resumed.StepCompleted += resumedLog.Add;
        resumed.Run(3);

        Assert.Equal(Get(straightModel.Kernels, straightModel.Weights), Get(resumedModel.Kernels, resumedModel.Weights));
        Assert.Equal(straightLog.Skip(3).Select(r => (r.Loss, r.GradientNorm, r.ValidationLoss)), resumedLog.Select(r => (r.Loss, r.GradientNorm, r.ValidationLoss)));
        Assert.True(straightLog[^1].Loss < straightLog[0].Loss);
        Assert.NotNull(straightLog[1].ValidationLoss);
        Assert.Null(straightLog[0].ValidationLoss);
        straight.Dispose();
        straightModel.Dispose();
        resumedModel.Dispose();
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Training_allocates_exactly_what_the_memory_model_predicts()
    {
        var kernels = new CpuKernels();
        LlamaConfig config = LlamaModelTests.Tiny(kvHeads: 1);
        using var model = new LlamaModel(config, kernels);
        model.InitializeWeights(1);
        using var trainer = new Trainer(model, Options, Data(300, 1));
        trainer.TrainStep();
        // + 1: the trainer's one-element buffer for the gradient norm.
        Assert.Equal(LlamaModel.TrainingMemoryBytes(config, Options.BatchSize, Options.SequenceLength) / 4 + 1, kernels.AllocatedElements);
    }

    [Fact]
    public void Learning_rate_warms_up_linearly_then_decays_by_cosine_to_the_minimum()
    {
        var o = new TrainerOptions { LearningRate = 1f, MinLearningRate = 0.1f, WarmupSteps = 10, MaxSteps = 110 };
        Assert.Equal(0.1f, LearningRateSchedule.At(o, 1), 6);
        Assert.Equal(1f, LearningRateSchedule.At(o, 10), 6);
        Assert.Equal(0.55f, LearningRateSchedule.At(o, 60), 5);
        Assert.Equal(0.1f, LearningRateSchedule.At(o, 110), 6);
        Assert.Equal(0.1f, LearningRateSchedule.At(o, 500), 6);
    }

    [Fact]
    public void Batches_are_consecutive_chunks_with_shifted_targets_and_wrap_around()
    {
        var loader = new BatchLoader(new InMemoryTokenSource([.. Enumerable.Range(0, 20)]), 2, 4);
        int[] x = new int[8], y = new int[8];
        loader.Next(x, y);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], x);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], y);
        loader.Next(x, y);
        Assert.Equal([8, 9, 10, 11, 12, 13, 14, 15], x);
        loader.Next(x, y);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], x); // 16 + 4 + 1 > 20 tokens: back to the start
        Assert.Equal(8, loader.Position);
    }

    [Fact]
    public void Token_file_reads_little_endian_int32_and_uint16()
    {
        string dir = TestPaths.NewTempDirectory();
        string p32 = Path.Combine(dir, "t32.bin"), p16 = Path.Combine(dir, "t16.bin");
        File.WriteAllBytes(p32, [1, 0, 0, 0, 0x34, 0x12, 0, 0, 0xFF, 0xFF, 0, 0]);
        File.WriteAllBytes(p16, [1, 0, 0x34, 0x12, 0xFF, 0xFF]);
        int[] a = new int[3], b = new int[3];
        using (var f = new TokenFile(p32))
        {
            Assert.Equal(3, f.Length);
            f.Read(0, a);
        }

        using (var f = new TokenFile(p16, 2))
        {
            f.Read(0, b);
        }

        Assert.Equal([1, 0x1234, 0xFFFF], a);
        Assert.Equal(a, b);
        Directory.Delete(dir, true);
    }
}
