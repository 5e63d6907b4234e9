using System.Diagnostics;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PreferenceStudio.Learning.Policies.Sac;

/// <summary>Progress of SAC training, reported after each burst of updates.</summary>
public sealed record SacProgress(long Steps, long TotalSteps, double MeanEpisodeReturn, double CriticLoss, double Alpha, TimeSpan Elapsed);

/// <summary>
/// Soft actor-critic for continuous actions (Haarnoja et al. 2018) in the PEBBLE arrangement (Lee et al. 2021):
/// <list type="number">
/// <item><see cref="Explore"/>: unsupervised pre-training that maximises state entropy, the reward of a transition being
/// log(1 + distance of its next observation to its k-th nearest neighbour among buffer observations), so the agent
/// spreads over the state space before anyone has labelled anything;</item>
/// <item><see cref="UseReward"/>: switches to a learned reward model (or the true reward) and relabels every stored
/// transition with it, so experience gathered under an older reward keeps being used;</item>
/// <item><see cref="Train"/>: collects and learns off-policy under the current reward.</item>
/// </list>
/// The agent lives across a campaign's rounds; all calls belong on the torch thread.
/// </summary>
public sealed class SacAgent : IDisposable
{
    public const string AlgorithmName = "sac";

    private const double LogStdMin = -5, LogStdMax = 2;

    private readonly IPreferenceEnvironment _env;
    private readonly SacOptions _o;
    private readonly Func<double[], double[]> _observe;
    private readonly int _obsSize, _actSize;
    private readonly double[] _center, _half;
    private readonly Sequential _actor, _q1, _q2, _q1Target, _q2Target;
    private readonly Parameter _logAlpha;
    private readonly AdamOptimizer _actorOptimizer, _criticOptimizer, _alphaOptimizer;
    private readonly Random _rng;
    private readonly Scalars _k;

    // The episode in progress carries over between calls, as an environment would.
    private double[] _state;
    private int _episodeStep;
    private double _episodeReturn;
    private readonly Queue<double> _recentReturns = new();

    // null: intrinsic (state-entropy) rewards, computed per batch at update time.
    private IRewardModel? _model;
    private bool _trueReward;
    // False while a learned reward's scale and shift still await enough transitions to be measured on.
    private bool _calibrated = true;

    public SacAgent(IPreferenceEnvironment env, SacOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (env.ActionSpace.IsDiscrete) throw new PolicyTrainingException($"{env.Name} has discrete actions; SAC here trains continuous-action policies.");
        _env = env;
        _o = options ?? new SacOptions();
        _o.Validate();
        (_obsSize, _observe) = PolicyObservation.For(env);
        _actSize = env.ActionSpace.Dimensions;
        _center = env.ActionSpace.Low.Zip(env.ActionSpace.High, (l, h) => (l + h) / 2).ToArray();
        _half = env.ActionSpace.Low.Zip(env.ActionSpace.High, (l, h) => (h - l) / 2).ToArray();
        torch.manual_seed(_o.Seed);
        _actor = Mlp(_obsSize, 2 * _actSize);
        _q1 = Mlp(_obsSize + _actSize, 1);
        _q2 = Mlp(_obsSize + _actSize, 1);
        _q1Target = Mlp(_obsSize + _actSize, 1);
        _q2Target = Mlp(_obsSize + _actSize, 1);
        CopyInto(_q1, _q1Target);
        CopyInto(_q2, _q2Target);
        _logAlpha = new Parameter(torch.tensor(new[] { (float)Math.Log(_o.InitialAlpha) }));
        _actorOptimizer = new AdamOptimizer(_actor.parameters(), _o.ActorLearningRate);
        _criticOptimizer = new AdamOptimizer(_q1.parameters().Concat(_q2.parameters()), _o.CriticLearningRate);
        _alphaOptimizer = new AdamOptimizer([_logAlpha], _o.AlphaLearningRate);
        _k = new Scalars(_o, targetEntropy: -_actSize);
        _rng = new Random(_o.Seed);
        Buffer = new ReplayBuffer(_o.BufferCapacity, _obsSize, _actSize);
        _state = env.SampleStart(_rng);
    }

    public IPreferenceEnvironment Environment => _env;

    public ReplayBuffer Buffer { get; }

    /// <summary>Environment steps taken so far (exploration included).</summary>
    public long Steps { get; private set; }

    /// <summary>Learned rewards are divided by this (their standard deviation over the buffer at the last relabel).</summary>
    public double RewardScale { get; private set; } = 1;

    /// <summary>
    /// Subtracted from learned rewards before scaling: their largest value over the buffer at the last relabel, so that
    /// (almost) every learned reward is at most 0. A learned reward is only defined up to a constant; where episodes can
    /// end (mountain car's flag), a positive constant would teach SAC to avoid the end, and on tasks that never end a
    /// constant changes nothing.
    /// </summary>
    public double RewardShift { get; private set; }

    public double Alpha => Math.Exp(_logAlpha.data<float>()[0]);

    /// <summary>Mean return of the last 20 finished training episodes under the reward being optimised (NaN before one).</summary>
    public double RecentReturn => _recentReturns.Count == 0 ? double.NaN : _recentReturns.Average();

    /// <summary>Unsupervised exploration for <paramref name="steps"/> steps on the state-entropy reward (PEBBLE's pre-training).</summary>
    public void Explore(long steps, IProgress<SacProgress>? progress = null, CancellationToken ct = default)
    {
        _model = null;
        _trueReward = false;
        Run(steps, progress, ct);
    }

    /// <summary>
    /// Optimises <paramref name="model"/>'s reward from now on (null: the environment's true reward) and relabels every
    /// transition in the buffer with it. Returns how many stored rewards changed. The model must stay alive while the
    /// agent trains on it.
    /// </summary>
    public int UseReward(IRewardModel? model)
    {
        _model = model;
        _trueReward = model is null;
        (RewardScale, RewardShift) = (1, 0);
        if (model is not null && Buffer.Count > 0)
        {
            // One scale for the whole buffer: SAC's temperature and learning rates assume rewards of order one.
            var all = LabelRaw(Enumerable.Range(0, Buffer.Count).ToList());
            double mean = all.Average();
            double std = Math.Sqrt(all.Sum(r => (r - mean) * (r - mean)) / all.Length);
            RewardScale = std > 1e-8 ? std : 1;
            RewardShift = all.Max();
        }
        _calibrated = model is null || Buffer.Count >= Math.Max(_o.LearningStarts, _o.BatchSize);
        return Buffer.Relabel(Label);
    }

    /// <summary>Collects and learns for <paramref name="steps"/> environment steps on the current reward.</summary>
    public void Train(long steps, IProgress<SacProgress>? progress = null, CancellationToken ct = default)
    {
        if (_model is null && !_trueReward) throw new InvalidOperationException("Call UseReward first: SAC has no reward to train on.");
        Run(steps, progress, ct);
    }

    /// <summary>The action for <paramref name="state"/>: the squashed mean when deterministic, else a sample.</summary>
    public double[] Act(double[] state, bool deterministic, Random? rng = null)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var obs = torch.tensor(Array.ConvertAll(_observe(state), v => (float)v), [1, _obsSize]);
        var (mean, logStd) = Head(_actor.forward(obs));
        var m = mean.data<float>().ToArray();
        var s = logStd.exp().data<float>().ToArray();
        var action = new double[_actSize];
        for (int i = 0; i < _actSize; i++)
        {
            double raw = deterministic ? m[i] : m[i] + s[i] * Gaussian.Sample(rng ?? _rng);
            action[i] = _center[i] + _half[i] * Math.Tanh(raw);
        }
        return action;
    }

    private void Run(long steps, IProgress<SacProgress>? progress, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var clock = Stopwatch.StartNew();
        long end = Steps + steps;
        var pending = new List<int>(_o.TrainEvery);
        double criticLoss = double.NaN;
        while (Steps < end)
        {
            ct.ThrowIfCancellationRequested();
            pending.Clear();
            for (int k = 0; k < _o.TrainEvery && Steps < end; k++) pending.Add(Collect());
            if (_model is not null || _trueReward) Buffer.SetRewards(pending, Label(pending));
            // A reward given to an empty buffer is scaled and shifted once there is enough to measure it on, before any update.
            if (_model is not null && !_calibrated && Buffer.Count >= Math.Max(_o.LearningStarts, _o.BatchSize)) UseReward(_model);
            if (Buffer.Count >= Math.Max(_o.LearningStarts, _o.BatchSize))
                for (int k = 0; k < pending.Count; k++) criticLoss = Update();
            progress?.Report(new SacProgress(Steps, end, RecentReturn, criticLoss, Alpha, clock.Elapsed));
        }
    }

    /// <summary>One environment step with a sampled (before learning starts: uniform) action; returns the buffer index.</summary>
    private int Collect()
    {
        var scaled = new float[_actSize];
        double[] action;
        if (Buffer.Added < _o.LearningStarts)
        {
            action = _env.ActionSpace.Sample(_rng);
        }
        else
        {
            action = Act(_state, deterministic: false);
        }
        for (int i = 0; i < _actSize; i++) scaled[i] = (float)Math.Clamp((action[i] - _center[i]) / _half[i], -1, 1);
        var step = _env.Step(_state, action);
        var obs = Array.ConvertAll(_observe(_state), v => (float)v);
        var next = Array.ConvertAll(_observe(step.Next), v => (float)v);
        bool truncated = _episodeStep + 1 >= _env.MaxEpisodeSteps;
        int index = Buffer.Add(obs, scaled, next, step.Terminal, _env.StepFeatures(_state, action, step.Next), step.Reward, truncated);
        Steps++;
        _episodeStep++;
        _episodeReturn += step.Reward;
        _state = step.Next;
        // A step limit is not a terminal state: the update bootstraps through it (only Terminal stops the return).
        if (step.Terminal || _episodeStep >= _env.MaxEpisodeSteps)
        {
            _recentReturns.Enqueue(_episodeReturn);
            if (_recentReturns.Count > 20) _recentReturns.Dequeue();
            _state = _env.SampleStart(_rng);
            _episodeStep = 0;
            _episodeReturn = 0;
        }
        return index;
    }

    private double[] Label(IReadOnlyList<int> indices)
    {
        if (_trueReward) return indices.Select(Buffer.TrueReward).ToArray();
        var raw = LabelRaw(indices);
        for (int i = 0; i < raw.Length; i++) raw[i] = (raw[i] - RewardShift) / RewardScale;
        return raw;
    }

    private double[] LabelRaw(IReadOnlyList<int> indices) =>
        _model is null ? new double[indices.Count] : _model.StepRewards(indices.Select(Buffer.Features).ToList());

    private double Update()
    {
        int n = _o.BatchSize;
        var indices = new int[n];
        for (int k = 0; k < n; k++) indices[k] = _rng.Next(Buffer.Count);
        var obsData = new float[n * _obsSize];
        var nextData = new float[n * _obsSize];
        var actData = new float[n * _actSize];
        var rewData = new float[n];
        var discountData = new float[n];
        bool intrinsic = _model is null && !_trueReward;
        // The state-entropy reward is computed for the observation reached, so exploration keeps one-step targets.
        Buffer.Gather(indices, intrinsic ? 1 : _o.NSteps, _o.Gamma, obsData, actData, rewData, nextData, discountData);

        using var scope = torch.NewDisposeScope();
        var obs = torch.tensor(obsData, [n, _obsSize]);
        var next = torch.tensor(nextData, [n, _obsSize]);
        var act = torch.tensor(actData, [n, _actSize]);
        var discount = torch.tensor(discountData, [n, 1]);
        var reward = intrinsic ? StateEntropyReward(next) : torch.tensor(rewData, [n, 1]);
        var alpha = _logAlpha.exp().detach();

        Tensor target;
        using (torch.no_grad())
        {
            var (nextAction, nextLogProb) = Sample(next);
            var input = torch.cat([next, nextAction], 1);
            var q = torch.minimum(_q1Target.forward(input), _q2Target.forward(input)) - alpha * nextLogProb;
            target = reward.add(discount * q, _k.One);
        }
        var sa = torch.cat([obs, act], 1);
        var criticLoss = functional.mse_loss(_q1.forward(sa), target).add(functional.mse_loss(_q2.forward(sa), target), _k.One);
        _criticOptimizer.zero_grad();
        criticLoss.backward();
        _criticOptimizer.step();

        var (action, logProb) = Sample(obs);
        var pi = torch.cat([obs, action], 1);
        var actorLoss = (alpha * logProb - torch.minimum(_q1.forward(pi), _q2.forward(pi))).mean();
        _actorOptimizer.zero_grad();
        actorLoss.backward();
        _actorOptimizer.step();

        var alphaLoss = -(_logAlpha * logProb.detach().add(_k.TargetEntropy, _k.One)).mean();
        _alphaOptimizer.zero_grad();
        alphaLoss.backward();
        _alphaOptimizer.step();

        SoftUpdate(_q1, _q1Target);
        SoftUpdate(_q2, _q2Target);
        double loss = criticLoss.item<float>();
        if (!double.IsFinite(loss)) throw new PolicyTrainingException($"SAC's critic loss became {loss}; the reward may be non-finite.");
        return loss;
    }

    /// <summary>
    /// PEBBLE's particle estimate of state entropy: log(1 + distance to the k-th nearest of a random sample of buffer
    /// observations), each dimension divided by its spread in the sample so that no one unit dominates (mountain car's
    /// velocity is a hundredth of its position), then divided by the batch's standard deviation.
    /// </summary>
    private Tensor StateEntropyReward(Tensor next)
    {
        int m = Math.Min(Buffer.Count, _o.EntropySample);
        var sample = new float[m * _obsSize];
        for (int k = 0; k < m; k++) Buffer.Next(_rng.Next(Buffer.Count)).CopyTo(sample.AsSpan(k * _obsSize, _obsSize));
        using (torch.no_grad())
        {
            var reference = torch.tensor(sample, [m, _obsSize]);
            var spread = reference.std(0, keepdim: true).add(_k.Tiny, _k.One);
            var distances = torch.cdist(next / spread, reference / spread);
            int k = Math.Min(_o.EntropyNeighbours + 1, m);
            var kth = distances.kthvalue(k, 1, keepdim: true).values;
            var reward = torch.log(kth.add(_k.One, _k.One));
            return reward / reward.std().add(_k.Tiny, _k.One);
        }
    }

    private (Tensor Mean, Tensor LogStd) Head(Tensor output)
    {
        var parts = output.chunk(2, 1);
        var logStd = torch.tanh(parts[1]).add(_k.One, _k.One).mul(_k.LogStdHalfRange).add(_k.LogStdMin, _k.One);
        return (parts[0], logStd);
    }

    /// <summary>A reparameterised sample of the squashed Gaussian in [-1, 1] and its log density.</summary>
    private (Tensor Action, Tensor LogProb) Sample(Tensor obs)
    {
        var (mean, logStd) = Head(_actor.forward(obs));
        var std = logStd.exp();
        var raw = mean.add(std * torch.randn_like(mean), _k.One);
        var action = torch.tanh(raw);
        var squash = torch.log(action.pow(_k.Two).neg().add(_k.One, _k.One).add(_k.Tiny, _k.One));
        var logProb = (((raw - mean) / std).pow(_k.Two).mul(_k.NegativeHalf) - logStd - squash).sub(_k.HalfLogTwoPi).sum(1, keepdim: true);
        return (action, logProb);
    }

    private Sequential Mlp(int inputs, int outputs)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        long width = inputs;
        for (int i = 0; i < _o.HiddenSizes.Count; i++)
        {
            layers.Add(($"fc{i}", Linear(width, _o.HiddenSizes[i])));
            layers.Add(($"act{i}", ReLU()));
            width = _o.HiddenSizes[i];
        }
        layers.Add(("head", Linear(width, outputs)));
        return Sequential(layers);
    }

    /// <summary>target = source, parameter by parameter.</summary>
    private static void CopyInto(Sequential source, Sequential target)
    {
        using var noGrad = torch.no_grad();
        foreach (var (s, t) in source.parameters().Zip(target.parameters())) t.copy_(s);
    }

    /// <summary>target = tau source + (1 - tau) target, parameter by parameter (Polyak averaging).</summary>
    private void SoftUpdate(Sequential source, Sequential target)
    {
        using var noGrad = torch.no_grad();
        foreach (var (s, t) in source.parameters().Zip(target.parameters())) t.mul_(_k.Keep).add_(s, alpha: _k.Tau);
    }

    /// <summary>
    /// Every constant the updates combine with tensors, made once and kept alive with the agent: TorchSharp 0.107 turns
    /// a double in <c>tensor + 1.0</c> into a temporary native Scalar that the garbage collector may free while libtorch
    /// still reads it (see <see cref="AdamOptimizer"/>). Millions of SAC updates made that rare failure ("Unknown scalar
    /// type" in add) certain within minutes. TorchSharp's <c>add</c> without an alpha (and the <c>+</c> operator) makes
    /// such a temporary for its alpha of 1 too (a Pendulum benchmark crashed in <see cref="Head"/> with every operand
    /// kept alive), so every addition here passes <see cref="One"/> as its alpha; <c>sub</c> has no alpha.
    /// </summary>
    private sealed class Scalars(SacOptions o, double targetEntropy) : IDisposable
    {
        public readonly Scalar One = 1.0.ToScalar(), Two = 2.0.ToScalar(), NegativeHalf = (-0.5).ToScalar(), Tiny = 1e-6.ToScalar(),
            LogStdMin = SacAgent.LogStdMin.ToScalar(), LogStdHalfRange = (0.5 * (LogStdMax - SacAgent.LogStdMin)).ToScalar(),
            HalfLogTwoPi = (0.5 * Math.Log(2 * Math.PI)).ToScalar(), Gamma = o.Gamma.ToScalar(), Tau = o.Tau.ToScalar(),
            Keep = (1 - o.Tau).ToScalar(), TargetEntropy = targetEntropy.ToScalar();

        public void Dispose()
        {
            foreach (var s in new[] { One, Two, NegativeHalf, Tiny, LogStdMin, LogStdHalfRange, HalfLogTwoPi, Gamma, Tau, Keep, TargetEntropy }) s.Dispose();
        }
    }

    // @2 added episode ends to the buffer (for n-step returns); @1 files still load.
    private const string Magic = "preferencestudio/sac-agent@2", MagicV1 = "preferencestudio/sac-agent@1";

    private sealed record SacHeader(string Algorithm, string Environment, SacOptions Options, long Steps, double RewardScale,
        double RewardShift, double[] State, int EpisodeStep, double EpisodeReturn, double[] RecentReturns);

    /// <summary>
    /// Writes the whole agent (networks, temperature, replay buffer, the episode in progress) to one file, written beside
    /// it and moved over it so a crash never leaves half a file. Adam's moments are not kept: they restart on load, as
    /// PPO's do. The reward it trains on is not kept either: call <see cref="UseReward"/> after <see cref="Load"/>.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var header = new SacHeader(AlgorithmName, _env.Name, _o, Steps, RewardScale, RewardShift, _state, _episodeStep, _episodeReturn, _recentReturns.ToArray());
        string temp = path + ".tmp";
        using (var stream = File.Create(temp))
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8))
        {
            writer.Write(Magic);
            writer.Write(System.Text.Json.JsonSerializer.Serialize(header));
            foreach (var module in new[] { _actor, _q1, _q2, _q1Target, _q2Target }) module.save(writer);
            writer.Write(_logAlpha.data<float>()[0]);
            Buffer.Write(writer);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Loads an agent written by <see cref="Save"/>; <see cref="PolicyTrainingException"/> for a file that is not one.</summary>
    public static SacAgent Load(string path, IPreferenceEnvironment env)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8);
        SacHeader header;
        bool v1;
        try
        {
            string magic = reader.ReadString();
            v1 = magic == MagicV1;
            if (magic != Magic && !v1) throw new PolicyTrainingException($"{path} is not a PreferenceStudio SAC agent.");
            header = System.Text.Json.JsonSerializer.Deserialize<SacHeader>(reader.ReadString())
                     ?? throw new PolicyTrainingException($"{path} has an empty SAC header.");
        }
        catch (Exception e) when (e is EndOfStreamException or System.Text.Json.JsonException or IOException)
        {
            throw new PolicyTrainingException($"{path} is not a readable SAC agent: {e.Message}", e);
        }
        if (header.Environment != env.Name)
            throw new PolicyTrainingException($"{path} holds a SAC agent for {header.Environment}, not {env.Name}.");
        var agent = new SacAgent(env, header.Options);
        try
        {
            foreach (var module in new[] { agent._actor, agent._q1, agent._q2, agent._q1Target, agent._q2Target }) module.load(reader);
            float logAlpha = reader.ReadSingle();
            using (torch.no_grad())
            using (var value = logAlpha.ToScalar())
                agent._logAlpha.fill_(value);
            agent.Buffer.Read(reader, withEpisodeEnds: !v1);
        }
        catch (Exception e) when (e is not PolicyTrainingException)
        {
            agent.Dispose();
            throw new PolicyTrainingException($"{path} has an unreadable SAC agent: {e.Message}", e);
        }
        agent.Steps = header.Steps;
        agent.RewardScale = header.RewardScale;
        agent.RewardShift = header.RewardShift;
        agent._state = header.State;
        agent._episodeStep = header.EpisodeStep;
        agent._episodeReturn = header.EpisodeReturn;
        foreach (var r in header.RecentReturns) agent._recentReturns.Enqueue(r);
        return agent;
    }

    public void Dispose()
    {
        _actorOptimizer.Dispose();
        _criticOptimizer.Dispose();
        _alphaOptimizer.Dispose();
        _actor.Dispose();
        _q1.Dispose();
        _q2.Dispose();
        _q1Target.Dispose();
        _q2Target.Dispose();
        _logAlpha.Dispose();
        _k.Dispose();
    }
}
