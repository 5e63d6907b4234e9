using System.Diagnostics;
using System.Text;
using PreferenceStudio.Environments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning.Policies;

/// <summary>
/// Proximal policy optimisation (Schulman et al. 2017) for continuous actions: a <see cref="GaussianPolicy"/> and a
/// separate value MLP, GAE(lambda) advantages, the clipped surrogate objective plus value loss and entropy bonus,
/// minibatch epochs with Adam and gradient-norm clipping, running observation and return normalisation.
/// Runs on CPU (the networks are tiny; per-step inference on a GPU would be slower). Synchronous: call it on the
/// <see cref="TorchTrainingThread"/>.
/// </summary>
public sealed class PpoTrainer
{
    private const int EpisodeWindow = 20;

    /// <summary>
    /// Trains for <see cref="PpoOptions.TotalSteps"/> environment steps on <paramref name="reward"/>.
    /// <paramref name="latent"/>, when given, is appended to every observation (a policy conditioned on a rater's z).
    /// <paramref name="resumeFrom"/> names a training checkpoint (<see cref="PpoOptions.CheckpointPath"/>): when the file
    /// exists, training continues from its weights, normalisation statistics and step count (episodes restart and Adam's
    /// moments start afresh); when it does not, training starts from scratch, so a caller can always pass the same path.
    /// Throws <see cref="PolicyTrainingException"/> on a non-finite reward, loss or parameter.
    /// </summary>
    public PpoTrainingResult Train(
        IPreferenceEnvironment env,
        IStepRewardSource reward,
        PpoOptions options,
        double[]? latent = null,
        IProgress<PolicyTrainingProgress>? progress = null,
        CancellationToken cancellationToken = default,
        string? resumeFrom = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(reward);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (env.ActionSpace.IsDiscrete)
            throw new PolicyTrainingException($"{env.Name} has discrete actions; PPO here trains continuous-action policies.");
        if (latent is not null && latent.Any(v => !double.IsFinite(v)))
            throw new PolicyTrainingException("The latent vector contains a non-finite value.");

        var clock = Stopwatch.StartNew();
        torch.manual_seed(options.Seed);
        var (policy, value, state) = resumeFrom is not null && File.Exists(resumeFrom)
            ? Resume(resumeFrom, env, latent)
            : Fresh(env, options, latent);
        try
        {
            var run = new Run(env, reward, options, policy, value, state, progress, clock, cancellationToken);
            var last = run.Execute();
            policy.TrainedSteps = run.Steps;
            return new PpoTrainingResult(policy, run.Steps, run.Iteration, state.Steps, last, clock.Elapsed);
        }
        catch
        {
            policy.Dispose();
            throw;
        }
        finally
        {
            value.Dispose();
        }
    }

    private static (GaussianPolicy, Sequential, PpoTrainingState) Fresh(IPreferenceEnvironment env, PpoOptions options, double[]? latent)
    {
        var (obsSize, _) = PolicyObservation.For(env);
        int inputs = obsSize + (latent?.Length ?? 0);
        var network = new GaussianPolicyNetwork(inputs, env.ActionSpace.Dimensions, options.HiddenSizes, options.InitialLogStd, options.StateDependentExploration);
        var stats = options.NormalizeObservations ? new RunningMeanStd(obsSize) : null;
        var policy = new GaussianPolicy(env, network, obsSize, latent is null ? null : (double[])latent.Clone(), options.HiddenSizes.ToArray(), stats);
        var value = PolicyNetworks.Value(inputs, options.HiddenSizes);
        return (policy, value, new PpoTrainingState(0, 0, 0, 1, 1e-4, options.Seed));
    }

    private static (GaussianPolicy, Sequential, PpoTrainingState) Resume(string path, IPreferenceEnvironment env, double[]? latent)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var (policy, header) = GaussianPolicy.Read(path, reader, env);
        if (header.Training is not { } state)
        {
            policy.Dispose();
            throw new PolicyTrainingException($"{path} is a finished policy, not a training checkpoint; it holds no value network to resume with.");
        }
        if ((latent?.Length ?? 0) != policy.LatentSize)
        {
            policy.Dispose();
            throw new PolicyTrainingException($"{path} was trained with a latent of size {policy.LatentSize}, not {latent?.Length ?? 0}.");
        }
        var value = PolicyNetworks.Value(policy.InputSize, policy.HiddenSizes);
        try
        {
            value.load(reader);
        }
        catch (Exception e)
        {
            value.Dispose();
            policy.Dispose();
            throw new PolicyTrainingException($"{path} has unreadable value weights: {e.Message}", e);
        }
        return (policy, value, state);
    }

    /// <summary>The state of one training run: environments in flight, buffers, statistics.</summary>
    private sealed class Run
    {
        private readonly IPreferenceEnvironment _env;
        private readonly IStepRewardSource _reward;
        private readonly PpoOptions _o;
        private readonly GaussianPolicy _policy;
        private readonly Sequential _value;
        private readonly IProgress<PolicyTrainingProgress>? _progress;
        private readonly Stopwatch _clock;
        private readonly CancellationToken _cancel;
        private readonly Random _rng;
        private readonly RunningMeanStd _returnStats;
        private readonly int _inputs;
        private readonly int _actions;

        // Per parallel environment: current state, its network input, episode bookkeeping.
        private readonly double[][] _states;
        private readonly float[] _current;
        private readonly int[] _episodeLength;
        private readonly double[] _episodeTrue;
        private readonly double[] _episodeSource;
        private readonly double[] _discountedReturn;
        private readonly double[]?[] _noise;
        private readonly Queue<double> _recentTrue = new();
        private readonly Queue<double> _recentSource = new();

        public Run(IPreferenceEnvironment env, IStepRewardSource reward, PpoOptions options, GaussianPolicy policy, Sequential value,
            PpoTrainingState state, IProgress<PolicyTrainingProgress>? progress, Stopwatch clock, CancellationToken cancel)
        {
            _env = env;
            _reward = reward;
            _o = options;
            _policy = policy;
            _value = value;
            _progress = progress;
            _clock = clock;
            _cancel = cancel;
            Steps = state.Steps;
            Iteration = state.Iteration;
            // A resumed run draws fresh noise rather than replaying the first run's.
            // (Not HashCode.Combine: it is randomised per process, which made runs of one seed differ.)
            _rng = new Random(unchecked(options.Seed * 1_000_003 + state.Iteration));
            _returnStats = new RunningMeanStd([state.ReturnMean], [state.ReturnVariance], state.ReturnCount);
            _inputs = policy.InputSize;
            _actions = policy.ActionSize;
            int e = options.Envs;
            _states = new double[e][];
            _current = new float[e * _inputs];
            _episodeLength = new int[e];
            _episodeTrue = new double[e];
            _episodeSource = new double[e];
            _discountedReturn = new double[e];
            _noise = new double[e][];
            for (int i = 0; i < e; i++) StartEpisode(i);
        }

        public long Steps { get; private set; }

        public int Iteration { get; private set; }

        public PolicyTrainingProgress? Execute()
        {
            var parameters = _policy.Network.parameters().Concat(_value.parameters()).ToList();
            using var optimizer = new Optimization.AdamOptimizer(parameters, _o.LearningRate);
            PolicyTrainingProgress? last = null;
            while (Steps < _o.TotalSteps)
            {
                _cancel.ThrowIfCancellationRequested();
                Iteration++;
                if (_o.AnnealLearningRate)
                {
                    double lr = _o.LearningRate * Math.Max(0.0, 1.0 - (double)Steps / _o.TotalSteps);
                    optimizer.LearningRate = lr;
                }
                var rollout = Collect();
                Steps += rollout.Count;
                var (advantages, returns) = Advantages(rollout);
                var losses = Update(optimizer, parameters, rollout, advantages, returns);
                CheckParameters(parameters);
                last = new PolicyTrainingProgress(Iteration, Steps, _o.TotalSteps, Mean(_recentTrue), Mean(_recentSource),
                    rollout.EpisodesFinished, losses.Policy, losses.Value, losses.Entropy, losses.Kl, losses.ClipFraction,
                    _policy.ActionStd().Average(), _clock.Elapsed);
                _progress?.Report(last);
                bool done = Steps >= _o.TotalSteps;
                if (_o.CheckpointPath is { } path && (done || Iteration % _o.CheckpointEvery == 0)) Checkpoint(path);
            }
            return last;
        }

        private void Checkpoint(string path)
        {
            _policy.TrainedSteps = Steps;
            var state = new PpoTrainingState(Iteration, Steps, _returnStats.Mean[0], _returnStats.Variance[0], _returnStats.Count, _o.Seed);
            _policy.Save(path, state, _value);
        }

        private void StartEpisode(int i)
        {
            _states[i] = _env.SampleStart(_rng);
            _episodeLength[i] = 0;
            _episodeTrue[i] = 0;
            _current.AsSpan(i * _inputs, _inputs).Clear();
            _policy.WriteObservation(ObserveAndTrack(_states[i]), _current.AsSpan(i * _inputs, _inputs));
        }

        /// <summary>The observation of a state, after folding it into the running statistics (SB3's order).</summary>
        private double[] ObserveAndTrack(double[] state)
        {
            var obs = _policy.Observe(state);
            _policy.ObservationStats?.Update(obs);
            return obs;
        }

        private Rollout Collect()
        {
            int e = _o.Envs, n = _o.RolloutSteps;
            var r = new Rollout(n, _inputs, _actions);
            // The log-std changed in the last update, so noise matrices drawn from the old one are dropped.
            Array.Clear(_noise);
            var sigma = _policy.NoiseScale();
            bool sde = _policy.StateDependent;
            var u = new double[_actions];
            for (int t = 0; t < _o.StepsPerEnv; t++)
            {
                _cancel.ThrowIfCancellationRequested();
                var (means, features) = _policy.Means(_current, e);
                for (int i = 0; i < e; i++)
                {
                    int k = t * e + i;
                    _current.AsSpan(i * _inputs, _inputs).CopyTo(r.Inputs.AsSpan(k * _inputs, _inputs));
                    if (sde)
                    {
                        if (_noise[i] is null || (_o.SdeSampleFrequency > 0 && t % _o.SdeSampleFrequency == 0))
                            _noise[i] = GaussianPolicy.SampleNoiseMatrix(sigma, _rng);
                        for (int j = 0; j < _actions; j++) u[j] = means[i * _actions + j];
                        _policy.AddStateDependentNoise(u, features, i, _noise[i]!);
                    }
                    else
                    {
                        for (int j = 0; j < _actions; j++) u[j] = means[i * _actions + j] + sigma[j] * Gaussian.Sample(_rng);
                    }
                    for (int j = 0; j < _actions; j++) r.Raw[k * _actions + j] = (float)u[j];
                    var action = _policy.ToAction(u);
                    var step = _env.Step(_states[i], action);
                    r.States[k] = _states[i];
                    r.Actions[k] = action;
                    r.Next[k] = step.Next;
                    r.TrueRewards[k] = step.Reward;
                    _episodeLength[i]++;
                    _episodeTrue[i] += step.Reward;
                    r.Terminal[k] = step.Terminal;
                    // A time-limit cut is not a terminal state: the value of the next state is still bootstrapped.
                    r.Ended[k] = step.Terminal || _episodeLength[i] >= _env.MaxEpisodeSteps;
                    _policy.WriteObservation(ObserveAndTrack(step.Next), r.NextInputs.AsSpan(k * _inputs, _inputs));
                    if (r.Ended[k])
                    {
                        _noise[i] = null;
                        Remember(_recentTrue, _episodeTrue[i]);
                        r.EpisodesFinished++;
                        StartEpisode(i);
                    }
                    else
                    {
                        _states[i] = step.Next;
                        r.NextInputs.AsSpan(k * _inputs, _inputs).CopyTo(_current.AsSpan(i * _inputs, _inputs));
                    }
                }
            }
            r.Rewards = SourceRewards(r);
            return r;
        }

        /// <summary>The optimised reward of every step (one call to the source), normalised by the return's running std.</summary>
        private float[] SourceRewards(Rollout r)
        {
            var raw = _reward.Rewards(_env, new StepBatch(r.States, r.Actions, r.Next, r.TrueRewards));
            if (raw.Length != r.Count)
                throw new PolicyTrainingException($"The reward source '{_reward.Name}' returned {raw.Length} rewards for {r.Count} steps.");
            int bad = Array.FindIndex(raw, v => !double.IsFinite(v));
            if (bad >= 0)
                throw new PolicyTrainingException($"The reward source '{_reward.Name}' returned {raw[bad]} for step {bad} of iteration {Iteration}.");
            int e = _o.Envs;
            var returns = new double[r.Count][];
            for (int k = 0; k < r.Count; k++)
            {
                int i = k % e;
                _discountedReturn[i] = _discountedReturn[i] * _o.Gamma + raw[k];
                returns[k] = [_discountedReturn[i]];
                _episodeSource[i] += raw[k];
                if (r.Ended[k])
                {
                    _discountedReturn[i] = 0;
                    Remember(_recentSource, _episodeSource[i]);
                    _episodeSource[i] = 0;
                }
            }
            var scaled = new float[r.Count];
            if (_o.NormalizeRewards)
            {
                _returnStats.Update(returns);
                double scale = _returnStats.Std(0);
                for (int k = 0; k < r.Count; k++) scaled[k] = (float)Math.Clamp(raw[k] / scale, -10, 10);
            }
            else
            {
                for (int k = 0; k < r.Count; k++) scaled[k] = (float)raw[k];
            }
            return scaled;
        }

        /// <summary>GAE(lambda) per environment, backwards in time; returns = advantages + V(s).</summary>
        private (float[] Advantages, float[] Returns) Advantages(Rollout r)
        {
            float[] v, vNext;
            using (torch.no_grad())
            using (var scope = torch.NewDisposeScope())
            {
                _value.eval();
                v = _value.forward(tensor(r.Inputs, [r.Count, _inputs])).data<float>().ToArray();
                vNext = _value.forward(tensor(r.NextInputs, [r.Count, _inputs])).data<float>().ToArray();
            }
            int e = _o.Envs;
            var adv = new float[r.Count];
            var ret = new float[r.Count];
            for (int i = 0; i < e; i++)
            {
                double next = 0;
                for (int t = _o.StepsPerEnv - 1; t >= 0; t--)
                {
                    int k = t * e + i;
                    double bootstrap = r.Terminal[k] ? 0 : _o.Gamma * vNext[k];
                    double delta = r.Rewards[k] + bootstrap - v[k];
                    double a = delta + (r.Ended[k] ? 0 : _o.Gamma * _o.Lambda * next);
                    adv[k] = (float)a;
                    ret[k] = (float)(a + v[k]);
                    next = a;
                }
            }
            return (adv, ret);
        }

        private Losses Update(Optimization.AdamOptimizer optimizer, List<Parameter> parameters, Rollout r, float[] advantages, float[] returns)
        {
            using var data = torch.NewDisposeScope();
            var inputs = tensor(r.Inputs, [r.Count, _inputs]);
            var raw = tensor(r.Raw, [r.Count, _actions]);
            var adv = tensor(advantages);
            var ret = tensor(returns);
            Tensor oldLogProb;
            using (torch.no_grad())
            {
                _policy.Network.eval();
                var (mean, features) = _policy.Network.Forward(inputs);
                oldLogProb = GaussianPolicyNetwork.LogProb(mean, _policy.Network.Std(features), raw);
            }
            _policy.Network.train();
            _value.train();
            var order = Enumerable.Range(0, r.Count).Select(i => (long)i).ToArray();
            // Constants as Scalars kept alive for the whole update: TorchSharp 0.107 turns a double in `tensor + 0.5` into
            // a temporary native Scalar the garbage collector may free while libtorch still reads it (see AdamOptimizer);
            // a long mountain-car run crashed that way ("Expected false to be true ... toFloat" in Entropy). Its add(x)
            // and `+` make one for their alpha of 1 as well, so additions pass `one` as alpha; sub has no alpha.
            using var one = 1.0.ToScalar();
            using var tiny = 1e-8.ToScalar();
            using var clipLow = (1 - _o.ClipRange).ToScalar();
            using var clipHigh = (1 + _o.ClipRange).ToScalar();
            using var clipRange = _o.ClipRange.ToScalar();
            using var valueCoefficient = _o.ValueCoefficient.ToScalar();
            using var entropyCoefficient = _o.EntropyCoefficient.ToScalar();
            double policySum = 0, valueSum = 0, entropySum = 0, klSum = 0, clipSum = 0;
            int batches = 0;
            for (int epoch = 0; epoch < _o.Epochs; epoch++)
            {
                _rng.Shuffle(order);
                double epochKl = 0;
                int epochBatches = 0;
                for (int start = 0; start < order.Length; start += _o.MinibatchSize)
                {
                    _cancel.ThrowIfCancellationRequested();
                    int count = Math.Min(_o.MinibatchSize, order.Length - start);
                    // Normalising advantages needs at least two samples; a ragged last minibatch of one is skipped.
                    if (count < 2) continue;
                    using var scope = torch.NewDisposeScope();
                    var idx = tensor(order.AsSpan(start, count).ToArray());
                    var x = inputs.index_select(0, idx);
                    var a = adv.index_select(0, idx);
                    a = (a - a.mean()) / a.std().add(tiny, one);
                    var (mean, features) = _policy.Network.Forward(x);
                    var std = _policy.Network.Std(features);
                    var logProb = GaussianPolicyNetwork.LogProb(mean, std, raw.index_select(0, idx));
                    var logRatio = logProb - oldLogProb.index_select(0, idx);
                    var ratio = logRatio.exp();
                    var policyLoss = -torch.minimum(ratio * a, ratio.clamp(clipLow, clipHigh) * a).mean();
                    var valueLoss = (_value.forward(x).squeeze(-1) - ret.index_select(0, idx)).square().mean();
                    var entropy = GaussianPolicyNetwork.Entropy(std).mean();
                    var loss = policyLoss.add(valueLoss.mul(valueCoefficient), one) - entropy.mul(entropyCoefficient);
                    optimizer.zero_grad();
                    loss.backward();
                    torch.nn.utils.clip_grad_norm_(parameters, _o.MaxGradNorm);
                    optimizer.step();

                    double lossValue = loss.ToDouble();
                    if (!double.IsFinite(lossValue))
                        throw new PolicyTrainingException(
                            $"The PPO loss became {lossValue} in iteration {Iteration} (step {Steps}); lower the learning rate (now {_o.LearningRate}) or check the reward and observations for huge values.");
                    double kl;
                    using (torch.no_grad())
                    {
                        kl = (ratio.sub(one) - logRatio).mean().ToDouble();
                        clipSum += ratio.sub(one).abs().gt(clipRange).to_type(ScalarType.Float32).mean().ToDouble();
                    }
                    policySum += policyLoss.ToDouble();
                    valueSum += valueLoss.ToDouble();
                    entropySum += entropy.ToDouble();
                    klSum += kl;
                    epochKl += kl;
                    batches++;
                    epochBatches++;
                }
                if (_o.TargetKl is { } target && epochBatches > 0 && epochKl / epochBatches > target) break;
            }
            int b = Math.Max(batches, 1);
            return new Losses(policySum / b, valueSum / b, entropySum / b, klSum / b, clipSum / b);
        }

        private void CheckParameters(List<Parameter> parameters)
        {
            using var noGrad = torch.no_grad();
            foreach (var p in parameters)
            {
                using var finite = torch.isfinite(p).all();
                if (!finite.ToBoolean())
                    throw new PolicyTrainingException($"A network parameter became non-finite in iteration {Iteration} (step {Steps}); lower the learning rate (now {_o.LearningRate}).");
            }
        }

        private static void Remember(Queue<double> window, double value)
        {
            window.Enqueue(value);
            while (window.Count > EpisodeWindow) window.Dequeue();
        }

        private static double Mean(Queue<double> window) => window.Count == 0 ? double.NaN : window.Average();
    }

    private sealed class Rollout(int count, int inputs, int actions)
    {
        public int Count { get; } = count;
        public float[] Inputs { get; } = new float[count * inputs];
        public float[] NextInputs { get; } = new float[count * inputs];
        public float[] Raw { get; } = new float[count * actions];
        public double[][] States { get; } = new double[count][];
        public double[][] Actions { get; } = new double[count][];
        public double[][] Next { get; } = new double[count][];
        public double[] TrueRewards { get; } = new double[count];
        public bool[] Terminal { get; } = new bool[count];
        public bool[] Ended { get; } = new bool[count];
        public float[] Rewards { get; set; } = [];
        public int EpisodesFinished { get; set; }
    }

    private readonly record struct Losses(double Policy, double Value, double Entropy, double Kl, double ClipFraction);
}
