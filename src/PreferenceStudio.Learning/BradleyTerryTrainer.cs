using System.Diagnostics;
using PreferenceStudio.Environments;
using TorchSharp;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning;

/// <summary>
/// Fits a <see cref="BradleyTerryRewardModel"/> of <see cref="RewardModelOptions.EnsembleSize"/> members by minimising,
/// for each member, the cross-entropy between the labels (1 right, 0 left, 0.5 equal) and sigmoid(R(right) - R(left))
/// with Adam, in shuffled mini-batches. Members differ in initial weights and batch order (and, with
/// <see cref="RewardModelOptions.Bootstrap"/>, in their bootstrap resample of the pairs); all train in one batched pass.
/// </summary>
public sealed class BradleyTerryTrainer : IRewardModelTrainer
{
    public string ModelType => BradleyTerryRewardModel.TypeName;

    public IRewardModel Train(
        IPreferenceEnvironment env,
        IReadOnlyList<PreferencePair> train,
        RewardModelOptions options,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        TrainModel(env, train, options, progress, cancellationToken);

    /// <summary>As <see cref="Train"/>, typed.</summary>
    public BradleyTerryRewardModel TrainModel(
        IPreferenceEnvironment env,
        IReadOnlyList<PreferencePair> train,
        RewardModelOptions options,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        var usable = TrainingPairs.Usable(env, train);

        var device = TorchDevices.Resolve(options.Device);
        var clock = Stopwatch.StartNew();
        torch.manual_seed(options.Seed);
        var rng = new Random(options.Seed);
        int k = options.EnsembleSize, n = usable.Count;
        var header = new BradleyTerryRewardModel.CheckpointHeader(
            BradleyTerryRewardModel.TypeName, env.Name, env.FeatureSize, options.HiddenSizes.ToArray(),
            options.LeakySlope, options.TanhOutput, options.LabelNoise, options.Bias, k);
        // A private generator seeded as the global one is: the same weights as before, whatever other threads draw.
        EnsembleNetwork net;
        using (var generator = new Generator((ulong)options.Seed))
            net = new EnsembleNetwork(k, env.FeatureSize, options.HiddenSizes, options.LeakySlope, options.TanhOutput, options.Bias, generator);
        try
        {
            net.to(device);
            using var data = SegmentTensors.EncodeForTraining(env, usable, options.BatchSize, device);
            // A batch of 128 pairs of 50 steps makes activations of [3, 12,800, 256] floats (39 MB) per layer, past the
            // caches and too big for the C heap to keep between batches, so each is faulted in and zeroed afresh
            // (see NativeHeap). Indexed steps (few distinct feature vectors) run the network once per table row and
            // need no chunks; neither does a GPU.
            int chunkSteps = data.Indexed || device.type != DeviceType.CPU ? 0 : options.ChunkSteps;
            using var target = tensor(usable.Select(p => (float)p.RightTarget!.Value).ToArray(), device: device);
            // Unit weights keep the plain mean loss, so campaigns without weighted labels train exactly as before.
            bool weighted = usable.Any(p => p.Weight != 1.0);
            using var weights = tensor(usable.Select(p => (float)p.Weight).ToArray(), device: device);
            using (var optimizer = new Optimization.AdamOptimizer(net.parameters(), options.LearningRate, options.WeightDecay))
            {
                // Member m's pairs for the epoch are orders[m]; all members see the same number per batch.
                var orders = new long[k][];
                for (int m = 0; m < k; m++)
                    orders[m] = k > 1 && options.Bootstrap
                        ? Enumerable.Range(0, n).Select(_ => (long)rng.Next(n)).ToArray()
                        : Enumerable.Range(0, n).Select(i => (long)i).ToArray();
                var batch = new long[k * Math.Min(options.BatchSize, n)];
                for (int epoch = 1; epoch <= options.Epochs; epoch++)
                {
                    net.train();
                    foreach (var order in orders) rng.Shuffle(order);
                    double lossSum = 0;
                    for (int start = 0; start < n; start += options.BatchSize)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        int count = Math.Min(options.BatchSize, n - start);
                        for (int m = 0; m < k; m++) Array.Copy(orders[m], start, batch, m * count, count);
                        optimizer.zero_grad();
                        // Each member's mean loss, summed: every member gets the gradient it would get trained alone.
                        // The batch runs in chunks whose gradients add up to the whole batch's (see chunkSteps).
                        double batchLoss = 0;
                        int chunk = chunkSteps > 0 ? (int)Math.Clamp(chunkSteps / data.Length, 1, count) : count;
                        for (int from = 0; from < count; from += chunk)
                        {
                            int c = Math.Min(chunk, count - from);
                            using var scope = torch.NewDisposeScope();
                            var rows = new long[k * c];
                            for (int m = 0; m < k; m++) Array.Copy(batch, m * count + from, rows, m * c, c);
                            var idx = tensor(rows, device: device);
                            var d = data.Differences(net, idx);
                            var y = target.index_select(0, idx).reshape(k, c);
                            var pairLoss = PreferenceLikelihood.PairLoss(d, y, options.LabelNoise);
                            if (weighted) pairLoss = pairLoss * weights.index_select(0, idx).reshape(k, c);
                            var loss = pairLoss.sum() / count;
                            loss.backward();
                            batchLoss += loss.ToDouble();
                        }
                        optimizer.step();
                        double value = batchLoss / k;
                        if (!double.IsFinite(value))
                            throw new RewardTrainingException($"The training loss became {value} in epoch {epoch}; lower the learning rate (now {options.LearningRate}) or check the step features for NaN or huge values.");
                        lossSum += value * count;
                    }
                    progress?.Report(new TrainingProgress(epoch, options.Epochs, lossSum / n, clock.Elapsed));
                }
            }
            net.eval();
            return new BradleyTerryRewardModel(net, env, header, device);
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }
}
