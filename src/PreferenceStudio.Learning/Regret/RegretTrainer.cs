using System.Diagnostics;
using PreferenceStudio.Environments;
using TorchSharp;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning.Regret;

/// <summary>
/// Fits a <see cref="RegretRewardModel"/> by minimising the cross-entropy between the labels (1 right, 0 left, 0.5 equal)
/// and sigmoid(D(right) - D(left)) with full-batch Adam, keeping the weights of the lowest training loss seen
/// (Knox et al.'s procedure). Their doubling of the pairs by swapping sides is left out: the likelihood is antisymmetric
/// (swapping the sides and the label gives the same loss), so the doubled set has the same loss and gradient.
/// </summary>
public sealed class RegretTrainer(RegretOptions? regret = null) : IRewardModelTrainer
{
    public RegretOptions Regret { get; } = regret ?? new RegretOptions();

    public string ModelType => RegretRewardModel.TypeName;

    public IRewardModel Train(
        IPreferenceEnvironment env,
        IReadOnlyList<PreferencePair> train,
        RewardModelOptions options,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        TrainModel(env, train, options, progress, cancellationToken);

    /// <summary>The form used for <paramref name="env"/> when <see cref="RegretOptions.Form"/> is not set.</summary>
    public static RegretForm DefaultForm(IPreferenceEnvironment env) =>
        env is ITabularEnvironment && env.ActionSpace.IsDiscrete ? RegretForm.LinearReward : RegretForm.Advantage;

    /// <summary>As <see cref="Train"/>, typed.</summary>
    public RegretRewardModel TrainModel(
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
        Regret.Validate();
        var form = Regret.Form ?? DefaultForm(env);
        if (form != RegretForm.Advantage && (env is not ITabularEnvironment || !env.ActionSpace.IsDiscrete))
            throw new ArgumentException($"The {form} regret form needs a tabular environment with discrete actions and known dynamics; {env.Name} has none. Use {RegretForm.Advantage}.");

        var usable = TrainingPairs.Usable(env, train);
        var device = TorchDevices.Resolve(options.Device);
        var clock = Stopwatch.StartNew();
        torch.manual_seed(options.Seed);
        int horizon = Regret.Horizon ?? env.MaxEpisodeSteps;
        var header = RegretRewardModel.CheckpointHeader.For(env, form, options, Regret.Temperature, horizon);
        double lr = form == RegretForm.LinearReward ? Regret.LinearLearningRate : Regret.NetworkLearningRate;
        var net = header.BuildNetwork();
        // Weights from a private generator: the global one is shared with every other thread (LinearInitialization).
        using (var generator = new Generator((ulong)options.Seed)) LinearInitialization.Reset(net, generator);
        try
        {
            net.to(device);
            using var planner = form == RegretForm.Advantage ? null : LearnedValueIteration.Build((ITabularEnvironment)env, horizon, Regret.Temperature, device);
            using var batch = RegretPairBatch.Encode(env, usable, form, device);
            using var target = tensor(usable.Select(p => p.RightTarget!.Value).ToArray(), device: device);
            // Unit weights keep the plain mean loss, so unweighted label sets train exactly as before.
            bool weighted = usable.Any(p => p.Weight != 1.0);
            using var weights = tensor(usable.Select(p => p.Weight).ToArray(), device: device);
            using var optimizer = new Optimization.AdamOptimizer(net.parameters(), lr);
            var parameters = net.parameters().ToList();
            var best = parameters.Select(p => p.detach().clone()).ToList();
            double bestLoss = double.PositiveInfinity;

            // One extra pass after the last step so the final weights are scored too.
            for (int step = 1; step <= Regret.Steps + 1; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                net.train();
                var values = planner?.Values(net);
                var d = batch.ScoreDifference(net, values);
                var loss = weighted
                    ? (PreferenceLikelihood.PairLoss(d, target, options.LabelNoise) * weights).mean()
                    : PreferenceLikelihood.MeanLoss(d, target, options.LabelNoise);
                if (Regret.L2 > 0)
                    loss = loss + Regret.L2 * parameters.Select(p => p.to_type(ScalarType.Float64).pow(2).sum()).Aggregate((a, b) => a + b);
                double value = loss.ToDouble();
                if (!double.IsFinite(value))
                    throw new RewardTrainingException($"The regret model's training loss became {value} at step {step}; lower the learning rate (now {lr}) or check the step features for NaN or huge values.");
                if (value < bestLoss)
                {
                    bestLoss = value;
                    using (torch.no_grad())
                        for (int i = 0; i < parameters.Count; i++) best[i].copy_(parameters[i]);
                }
                if (step > Regret.Steps) break;
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                progress?.Report(new TrainingProgress(step, Regret.Steps, value, clock.Elapsed));
            }
            using (torch.no_grad())
                for (int i = 0; i < parameters.Count; i++) parameters[i].copy_(best[i]);
            foreach (var b in best) b.Dispose();
            return new RegretRewardModel(net, env, header, device);
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }
}
