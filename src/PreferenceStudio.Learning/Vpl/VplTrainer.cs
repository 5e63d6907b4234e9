using System.Diagnostics;
using PreferenceStudio.Environments;
using TorchSharp;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning.Vpl;

/// <summary>
/// Trains a <see cref="VplRewardModel"/> (model type "vpl"; Poddar et al. 2024, METHODS.md section 1). For each rater,
/// repeatedly: infer q(z | context) from a context set of that rater's labels, sample z, and score a disjoint target
/// set of the same rater's labels with r(s, z). Loss per set = sum over targets of BCE(y, sigmoid(R(right|z) -
/// R(left|z))) + beta * KL(q || N(0, I)), beta annealed from 0 in cosine cycles; reported per target pair.
/// Pairs without a rater count as one anonymous rater (<see cref="VplRewardModel.AnonymousRater"/>).
/// </summary>
/// <remarks>
/// <see cref="RewardModelOptions.BatchSize"/> counts target pairs per step (BatchSize / TargetSize sets); one epoch
/// makes every label a target once. The decoder uses <see cref="RewardModelOptions.HiddenSizes"/>,
/// <see cref="RewardModelOptions.LeakySlope"/>, Bias and TanhOutput as the Bradley-Terry network does.
/// </remarks>
public sealed class VplTrainer(VplOptions? vpl = null) : IRewardModelTrainer
{
    public VplOptions Vpl { get; } = vpl ?? new VplOptions();

    public string ModelType => VplRewardModel.TypeName;

    public IRewardModel Train(
        IPreferenceEnvironment env,
        IReadOnlyList<PreferencePair> train,
        RewardModelOptions options,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default) =>
        TrainModel(env, train, options, progress, cancellationToken);

    /// <summary>As <see cref="Train"/>, typed.</summary>
    public VplRewardModel TrainModel(
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
        Vpl.Validate();

        var usable = TrainingPairs.Usable(env, train);
        var raters = usable.Select((p, i) => (Rater: VplRewardModel.RaterKey(p.Rater), Index: i))
            .GroupBy(x => x.Rater, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (Name: g.Key, Indices: g.Select(x => x.Index).ToArray()))
            .ToList();

        var device = TorchDevices.Resolve(options.Device);
        var clock = Stopwatch.StartNew();
        var rng = new Random(options.Seed);
        // A private generator rather than torch.manual_seed: the global one is shared with every other thread.
        using var generator = new Generator((ulong)options.Seed);
        var architecture = new VplArchitecture(
            env.FeatureSize, Vpl.LatentSize, Vpl.EncoderHiddenSizes.ToArray(), Vpl.EncoderLeakySlope,
            options.HiddenSizes.ToArray(), options.LeakySlope, options.Bias, options.TanhOutput);
        var net = new VplNetwork(architecture);
        try
        {
            net.Initialize(generator);
            net.to(device);
            var sampler = new VplSetSampler(raters.Select(r => r.Indices).ToList(), Vpl.MaxContext, Vpl.TargetSize);
            int setsPerStep = Math.Max(1, options.BatchSize / Vpl.TargetSize);
            int stepsPerEpoch = (sampler.SetsPerEpoch + setsPerStep - 1) / setsPerStep;
            long totalSteps = (long)stepsPerEpoch * options.Epochs;
            long step = 0;

            var (leftX, leftMask, rightX, rightMask) = SegmentTensors.EncodePairs(env, usable, device);
            using var target = tensor(usable.Select(p => (float)p.RightTarget!.Value).ToArray(), device: device);
            // A pair's weight scales its term of the reconstruction loss (hierarchy labels carry the campaign's weight).
            using var weights = tensor(usable.Select(p => (float)p.Weight).ToArray(), device: device);
            using (leftX) using (leftMask) using (rightX) using (rightMask)
            using (var pairInputs = PairInputs(leftX, leftMask, rightX, rightMask, target))
            // Weight decay regularises the decoder only: on the encoder it shrank the weak early signal of who a rater is
            // until the decoder ignored z (measured on the independent population: seeds whose latent collapsed with
            // decay on the encoder kept it without).
            using (var optimizer = new Optimization.AdamOptimizer(net.DecoderParameters(), options.LearningRate, options.WeightDecay))
            using (var encoderOptimizer = new Optimization.AdamOptimizer(net.EncoderParameters(), options.LearningRate))
            {
                // Kept-alive Scalars: TorchSharp's temporaries for `x * 0.5` or `x - 1` can be freed mid-call (TorchConstants).
                using var half = 0.5.ToScalar();
                using var one = 1.0.ToScalar();
                for (int epoch = 1; epoch <= options.Epochs; epoch++)
                {
                    net.train();
                    var sets = sampler.Epoch(rng);
                    double lossSum = 0, klSum = 0, bceSum = 0;
                    int targetSum = 0;
                    for (int start = 0; start < sets.Count; start += setsPerStep)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var batch = sets.GetRange(start, Math.Min(setsPerStep, sets.Count - start));
                        double beta = Vpl.Beta * CyclicalCosine(step++, totalSteps, Vpl.AnnealCycles);
                        using var scope = torch.NewDisposeScope();
                        var (context, contextMask) = Padded(batch.Select(s => s.Context).ToList(), device);
                        var (targets, targetMask) = Padded(batch.Select(s => s.Targets).ToList(), device);
                        long b = batch.Count, c = context.shape[1], t = targets.shape[1];

                        var (mean, logVar) = net.Encode(pairInputs.index_select(0, context.flatten()).view(b, c, -1), contextMask);
                        var noise = torch.randn(mean.shape, generator: generator).to(device);
                        var z = mean.add(logVar.mul(half).exp() * noise, TorchConstants.One);
                        var zTargets = z.unsqueeze(1).expand(b, t, z.shape[1]).reshape(b * t, z.shape[1]);
                        var idx = targets.flatten();
                        var d = net.SegmentReturns(rightX.index_select(0, idx), rightMask.index_select(0, idx), zTargets)
                              - net.SegmentReturns(leftX.index_select(0, idx), leftMask.index_select(0, idx), zTargets);
                        var bce = PreferenceLikelihood.PairLoss(d, target.index_select(0, idx), options.LabelNoise) * targetMask.flatten()
                                  * weights.index_select(0, idx);
                        var kl = (mean.square().add(logVar.exp(), TorchConstants.One).sub(one) - logVar).mul(half).sum();
                        var pairs = targetMask.sum();
                        using var betaScalar = beta.ToScalar();
                        var loss = bce.sum().add(kl.mul(betaScalar), TorchConstants.One) / pairs;

                        optimizer.zero_grad();
                        encoderOptimizer.zero_grad();
                        loss.backward();
                        optimizer.step();
                        encoderOptimizer.step();
                        double value = loss.ToDouble();
                        if (!double.IsFinite(value))
                            throw new RewardTrainingException($"The VPL training loss became {value} in epoch {epoch}; lower the learning rate (now {options.LearningRate}) or check the step features for NaN or huge values.");
                        int n = (int)pairs.ToSingle();
                        lossSum += value * n;
                        klSum += kl.ToDouble();
                        bceSum += bce.sum().ToDouble();
                        targetSum += n;
                    }
                    progress?.Report(new TrainingProgress(epoch, options.Epochs, lossSum / Math.Max(1, targetSum), clock.Elapsed)
                    {
                        Kl = klSum / Math.Max(1, targetSum),
                        Reconstruction = bceSum / Math.Max(1, targetSum),
                    });
                }
            }
            net.eval();
            var latents = raters.Select(r =>
            {
                var (m, s) = VplRewardModel.Posterior(net, env, r.Indices.Select(i => usable[i]).ToList(), device);
                return new VplRaterLatent(r.Name, r.Indices.Length, m, s);
            }).ToArray();
            var header = new VplCheckpointHeader(VplRewardModel.TypeName, env.Name, architecture, options.LabelNoise, latents);
            return new VplRewardModel(net, env, header, device);
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The cyclical cosine schedule of the authors' annealer: within each of <paramref name="cycles"/> equal cycles the
    /// weight rises from 0 to 1 as (cos(pi * (u - 1)) + 1) / 2, u the position in the cycle in [0, 1).
    /// </summary>
    public static double CyclicalCosine(long step, long totalSteps, int cycles)
    {
        if (totalSteps <= 0 || cycles < 1) return 1;
        double cycle = (double)totalSteps / cycles;
        double u = step % cycle / cycle;
        return (Math.Cos(Math.PI * (u - 1)) + 1) / 2;
    }

    private static Tensor PairInputs(Tensor leftX, Tensor leftMask, Tensor rightX, Tensor rightMask, Tensor target)
    {
        using var scope = torch.NewDisposeScope();
        var (left, right) = VplPairFeatures.MeanFeatures(leftX, leftMask, rightX, rightMask);
        return VplPairFeatures.Inputs(left, right, target).MoveToOuterDisposeScope();
    }

    /// <summary>Index sets padded with index 0 to the longest, and a mask that is 1 on real entries: [B, L] each.</summary>
    private static (Tensor Indices, Tensor Mask) Padded(IReadOnlyList<int[]> sets, Device device)
    {
        int width = Math.Max(1, sets.Max(s => s.Length));
        var indices = new long[sets.Count * width];
        var mask = new float[sets.Count * width];
        for (int i = 0; i < sets.Count; i++)
            for (int j = 0; j < sets[i].Length; j++)
            {
                indices[i * width + j] = sets[i][j];
                mask[i * width + j] = 1;
            }
        return (tensor(indices, [sets.Count, width], device: device), tensor(mask, [sets.Count, width], device: device));
    }
}
