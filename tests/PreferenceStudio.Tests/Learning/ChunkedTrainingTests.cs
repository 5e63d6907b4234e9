using PreferenceStudio.Learning;
using PreferenceStudio.Tests.Hierarchy;

namespace PreferenceStudio.Tests.Learning;

/// <summary>
/// On the CPU a batch of dense step features runs in chunks whose gradients are summed before one optimiser step;
/// that must train the same model as running the batch whole (up to the order of float additions).
/// </summary>
[Collection(TorchDeterminismCollection.Name)]
public class ChunkedTrainingTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Chunked_batches_train_the_model_the_whole_batches_train(bool weighted)
    {
        var env = new EnsembleTests.LinearToyEnvironment();
        var pairs = env.Pairs(200, seed: 71);
        if (weighted) pairs = pairs.Select((p, i) => p with { Weight = 0.5 + i % 3 }).ToList();
        var probe = env.Pairs(50, seed: 72);
        // Segments of 5 steps: 10 steps a chunk is 2 pairs, so each batch of 32 runs as 16 chunks.
        var options = new RewardModelOptions { Device = "cpu", Seed = 7, Epochs = 5, HiddenSizes = [16, 16], BatchSize = 32, EnsembleSize = 3 };
        var wholeLosses = new Losses();
        var chunkedLosses = new Losses();
        using var whole = new BradleyTerryTrainer().Train(env, pairs, options with { ChunkSteps = 0 }, wholeLosses);
        using var chunked = new BradleyTerryTrainer().Train(env, pairs, options with { ChunkSteps = 10 }, chunkedLosses);
        using var other = new BradleyTerryTrainer().Train(env, pairs, options with { ChunkSteps = 0, Seed = 8 });
        var expected = whole.PreferRightProbabilities(probe);
        var actual = chunked.PreferRightProbabilities(probe);
        for (int i = 0; i < probe.Count; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-4, $"pair {i}: {expected[i]} whole, {actual[i]} chunked");
        // The reported loss is each epoch's mean over the pairs either way (a chunk's share is weighted by its size).
        Assert.Equal(5, chunkedLosses.Count);
        for (int e = 0; e < 5; e++) Assert.True(Math.Abs(wholeLosses[e] - chunkedLosses[e]) < 1e-5, $"epoch {e + 1}: {wholeLosses[e]} whole, {chunkedLosses[e]} chunked");
        // A model trained otherwise differs by more than that tolerance, so the comparison can fail.
        Assert.Contains(Enumerable.Range(0, probe.Count), i => Math.Abs(other.PreferRightProbabilities(probe)[i] - expected[i]) > 1e-3);
    }

    private sealed class Losses : List<double>, IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => Add(value.Loss);
    }
}
