using System.Diagnostics;
using PreferenceStudio.Environments;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PreferenceStudio.Learning;

/// <summary>
/// Fits a <see cref="BradleyTerryRewardModel"/> by minimising the cross-entropy between the labels (1 right, 0 left,
/// 0.5 equal) and sigmoid(R(right) - R(left)) with Adam, in shuffled mini-batches.
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

        var usable = train.Where(p => p.RightTarget is not null).ToList();
        if (usable.Count == 0)
            throw new RewardTrainingException(train.Count == 0
                ? "No preference pairs to train on."
                : $"None of the {train.Count} pairs can train a reward model: all are labelled incomparable.");
        foreach (var (pair, i) in usable.Select((p, i) => (p, i)))
        {
            var error = env.ValidateSegment(pair.Left) ?? env.ValidateSegment(pair.Right);
            if (error is not null) throw new RewardTrainingException($"Training pair {i} does not fit {env.Name}: {error}.");
        }

        var device = TorchDevices.Resolve(options.Device);
        var clock = Stopwatch.StartNew();
        torch.manual_seed(options.Seed);
        var rng = new Random(options.Seed);
        var header = new BradleyTerryRewardModel.CheckpointHeader(
            BradleyTerryRewardModel.TypeName, env.Name, env.FeatureSize, options.HiddenSizes.ToArray(),
            options.LeakySlope, options.TanhOutput, options.LabelNoise, options.Bias);
        var net = RewardNetwork.Build(env.FeatureSize, options.HiddenSizes, options.LeakySlope, options.TanhOutput, options.Bias);
        try
        {
            net.to(device);
            var (leftX, leftMask, rightX, rightMask) = SegmentTensors.EncodePairs(env, usable, device);
            using var target = tensor(usable.Select(p => (float)p.RightTarget!.Value).ToArray(), device: device);
            using (leftX) using (leftMask) using (rightX) using (rightMask)
            using (var optimizer = optim.Adam(net.parameters(), lr: options.LearningRate, weight_decay: options.WeightDecay))
            {
                var order = Enumerable.Range(0, usable.Count).Select(i => (long)i).ToArray();
                for (int epoch = 1; epoch <= options.Epochs; epoch++)
                {
                    net.train();
                    rng.Shuffle(order);
                    double lossSum = 0;
                    for (int start = 0; start < order.Length; start += options.BatchSize)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        int count = Math.Min(options.BatchSize, order.Length - start);
                        using var scope = torch.NewDisposeScope();
                        var idx = tensor(order.AsSpan(start, count).ToArray(), device: device);
                        var d = RewardNetwork.SegmentReturns(net, rightX.index_select(0, idx), rightMask.index_select(0, idx))
                              - RewardNetwork.SegmentReturns(net, leftX.index_select(0, idx), leftMask.index_select(0, idx));
                        var loss = Loss(d, target.index_select(0, idx), options.LabelNoise);
                        optimizer.zero_grad();
                        loss.backward();
                        optimizer.step();
                        double value = loss.ToDouble();
                        if (!double.IsFinite(value))
                            throw new RewardTrainingException($"The training loss became {value} in epoch {epoch}; lower the learning rate (now {options.LearningRate}) or check the step features for NaN or huge values.");
                        lossSum += value * count;
                    }
                    progress?.Report(new TrainingProgress(epoch, options.Epochs, lossSum / order.Length, clock.Elapsed));
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

    /// <summary>Cross-entropy of soft targets; with label noise, of 0.9 * sigmoid(d) + 0.05.</summary>
    private static Tensor Loss(Tensor d, Tensor y, bool labelNoise)
    {
        if (!labelNoise) return F.binary_cross_entropy_with_logits(d, y);
        var p = torch.sigmoid(d) * 0.9 + 0.05;
        return -(y * p.log() + (1 - y) * (1 - p).log()).mean();
    }
}
