using System.Text;
using PreferenceStudio.Environments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning.Regret;

/// <summary>
/// The regret preference model of Knox et al. 2022 (METHODS.md section 1): a rater prefers the segment that deviates
/// less from optimal behaviour. P(right preferred) = sigmoid(D(right) - D(left)), optionally mixed with 10% random labels.
/// <list type="bullet">
/// <item>Reward forms (tabular environments with known deterministic dynamics): D(seg) = sum_t r_hat(s_t, a_t) +
/// V_hat*(s_k) - V_hat*(s_0), V_hat* by value iteration on r_hat, made differentiable (see <see cref="Temperature"/>). r_hat is
/// linear in the step features by default. <see cref="StepRewards"/> and <see cref="SegmentReturns"/> are r_hat, so
/// RewardTable.Plan plans on the learned reward.</item>
/// <item>Advantage form (any environment, e.g. continuous control): D(seg) = sum_t A_hat(s_t, a_t), a learned optimal
/// advantage. Knox et al. 2023 found such an A_hat is best used greedily as a policy (<see cref="GreedyAction"/>),
/// not as a reward: treated as a reward it is a highly shaped one that RL optimises well only once a specific pitfall
/// is handled, and greedy maximisation is simpler and better. <see cref="StepRewards"/> then returns A_hat.</item>
/// </list>
/// </summary>
/// <remarks>Inference calls are serialised by a lock: a TorchSharp module is not safe for concurrent forward passes.</remarks>
public sealed class RegretRewardModel : IRewardModel
{
    /// <summary>The <see cref="ModelType"/> of this model.</summary>
    public const string TypeName = "regret";

    private const int InferenceChunk = 4096;
    private const int DefaultCandidateSeed = 12345;

    private readonly Sequential _net;
    private readonly IPreferenceEnvironment _env;
    private readonly CheckpointHeader _header;
    private readonly Device _device;
    private readonly LearnedValueIteration? _planner;
    private readonly Tensor? _values;
    private readonly double[]? _valueArray;
    private readonly double[,]? _qValues;
    private readonly Lock _gate = new();

    internal RegretRewardModel(Sequential net, IPreferenceEnvironment env, CheckpointHeader header, Device device)
    {
        _net = net;
        _env = env;
        _header = header;
        _device = device;
        Form = Enum.Parse<RegretForm>(header.Form);
        _net.eval();
        if (Form == RegretForm.Advantage) return;
        if (env is not ITabularEnvironment tabular || !env.ActionSpace.IsDiscrete)
            throw new RewardTrainingException($"The regret model's {Form} form needs a tabular environment with discrete actions; {env.Name} is not. Use the advantage form.");
        _planner = LearnedValueIteration.Build(tabular, header.Horizon, header.Temperature, device);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var rewards = _planner.StepRewards(_net);
        var values = _planner.Values(rewards);
        _valueArray = SegmentTensors.ToDoubles(values);
        var q = SegmentTensors.ToDoubles(_planner.QValues(rewards, values));
        _qValues = new double[_planner.StateCount, _planner.ActionCount];
        Buffer.BlockCopy(q, 0, _qValues, 0, q.Length * sizeof(double));
        _values = values.MoveToOuterDisposeScope();
    }

    public string ModelType => TypeName;

    public string EnvironmentName => _env.Name;

    public RegretForm Form { get; }

    /// <summary>Soft-maximum temperature of the value iteration (0 = exact maximum); unused by the advantage form.</summary>
    public double Temperature => _header.Temperature;

    /// <summary>Value-iteration horizon (steps, gamma = 1); unused by the advantage form.</summary>
    public int Horizon => _header.Horizon;

    /// <summary>Whether probabilities include the 10% random-label mixing the model was trained with.</summary>
    public bool LabelNoise => _header.LabelNoise;

    /// <summary>The device the weights live on ("cpu" or "cuda").</summary>
    public string DeviceName => _device.type == DeviceType.CUDA ? "cuda" : "cpu";

    /// <summary>w of r_hat = w . phi, in the environment's FeatureNames order; null unless <see cref="RegretForm.LinearReward"/>.</summary>
    public double[]? LinearWeights
    {
        get
        {
            if (Form != RegretForm.LinearReward) return null;
            lock (_gate) return SegmentTensors.ToDoubles(_net.parameters().First().detach().flatten());
        }
    }

    /// <summary>V_hat*(s) by state index under the learned reward; null for the advantage form.</summary>
    public IReadOnlyList<double>? OptimalValues => _valueArray;

    internal Sequential Network => _net;

    /// <summary>
    /// A tabular regret model with the linear reward r = w . phi fixed to <paramref name="weights"/>: for simulated
    /// studies, tests and a known reward's regret likelihood.
    /// </summary>
    public static RegretRewardModel FromLinearWeights(
        ITabularEnvironment env, IReadOnlyList<double> weights, double temperature = 0, int? horizon = null,
        bool labelNoise = false, string device = "cpu")
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count != env.FeatureSize)
            throw new ArgumentException($"{env.Name} has {env.FeatureSize} features; got {weights.Count} weights.", nameof(weights));
        new RegretOptions { Temperature = temperature, Horizon = horizon }.Validate();
        var header = CheckpointHeader.For(env, RegretForm.LinearReward, new RewardModelOptions { LabelNoise = labelNoise },
            temperature, horizon ?? env.MaxEpisodeSteps);
        var net = header.BuildNetwork();
        using (torch.no_grad())
            net.parameters().First().copy_(tensor(weights.Select(w => (float)w).ToArray(), [1, env.FeatureSize]));
        var dev = TorchDevices.Resolve(device);
        net.to(dev);
        return new RegretRewardModel(net, env, header, dev);
    }

    /// <summary>r_hat of single steps (reward forms) or A_hat (advantage form), one per feature vector.</summary>
    public double[] StepRewards(IReadOnlyList<float[]> stepFeatures)
    {
        ArgumentNullException.ThrowIfNull(stepFeatures);
        int f = _env.FeatureSize;
        var flat = SegmentTensors.FlattenSteps(stepFeatures, f);
        if (stepFeatures.Count == 0) return [];
        lock (_gate)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            return SegmentTensors.ToDoubles(RegretNetwork.Forward(_net, tensor(flat, [stepFeatures.Count, f], device: _device)));
        }
    }

    /// <summary>Sum of <see cref="StepRewards"/> over the segment's own steps (the learned partial return, or sum of A_hat).</summary>
    public double SegmentReturn(Segment segment) => SegmentReturns([segment])[0];

    public double[] SegmentReturns(IReadOnlyList<Segment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var result = new double[segments.Count];
        for (int start = 0; start < segments.Count; start += InferenceChunk)
        {
            var chunk = segments.Skip(start).Take(InferenceChunk).ToList();
            lock (_gate)
            {
                using var noGrad = torch.no_grad();
                using var scope = torch.NewDisposeScope();
                var (features, mask) = SegmentTensors.Encode(_env, chunk, _device);
                SegmentTensors.ToDoubles(RegretNetwork.SegmentSums(_net, features, mask)).CopyTo(result, start);
            }
        }
        return result;
    }

    /// <summary>
    /// The regret-based score D(seg) over the segment's own steps: sum r_hat + V_hat*(s_k) - V_hat*(s_0), or sum A_hat.
    /// 0 for a segment the model thinks optimal, negative otherwise.
    /// </summary>
    public double SegmentScore(Segment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        double partial = SegmentReturn(segment);
        if (_valueArray is null) return partial;
        var tabular = (ITabularEnvironment)_env;
        return partial + _valueArray[tabular.StateIndex(segment.States[^1])] - _valueArray[tabular.StateIndex(segment.States[0])];
    }

    public double PreferRightProbability(Segment left, Segment right) =>
        PreferRightProbabilities([new PreferencePair(left, right, PreferenceChoice.Equal)])[0];

    /// <summary>
    /// sigmoid(D(right) - D(left)). Reward forms compare over the same number of steps, padding a segment that ended at a
    /// terminal state earlier than its partner with absorbing steps, as in training.
    /// </summary>
    public double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var result = new double[pairs.Count];
        for (int start = 0; start < pairs.Count; start += InferenceChunk)
        {
            var chunk = pairs.Skip(start).Take(InferenceChunk).ToList();
            double[] d;
            lock (_gate)
            {
                using var noGrad = torch.no_grad();
                using var scope = torch.NewDisposeScope();
                using var batch = RegretPairBatch.Encode(_env, chunk, Form, _device);
                d = SegmentTensors.ToDoubles(batch.ScoreDifference(_net, _values));
            }
            for (int i = 0; i < d.Length; i++) result[start + i] = Probability(d[i]);
        }
        return result;
    }

    /// <summary>
    /// The model's greedy action in <paramref name="state"/>. Reward forms: argmax_a Q_hat(s, a) = r_hat(s, a) +
    /// V_hat*(s') (lowest index on ties). Advantage form: argmax of A_hat over every discrete action, or for continuous
    /// actions over <paramref name="samples"/> uniform draws from the action space (the same draws for every state, so
    /// the policy is deterministic) plus the centre, the all-low and all-high corners and each dimension's low and high
    /// with the others centred. The A_hat form is meant to be used this way rather than as a reward (Knox et al. 2023).
    /// </summary>
    public double[] GreedyAction(double[] state, int samples = 64)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        var stateError = _env.ValidateState(state);
        if (stateError is not null) throw new ArgumentException($"Not a state of {_env.Name}: {stateError}.", nameof(state));
        if (_qValues is not null)
        {
            int s = ((ITabularEnvironment)_env).StateIndex(state);
            int best = 0;
            for (int a = 1; a < _qValues.GetLength(1); a++)
                if (_qValues[s, a] > _qValues[s, best]) best = a;
            return [best];
        }
        var candidates = Candidates(_env.ActionSpace, samples);
        var features = candidates.Select(a => _env.StepFeatures(state, a, _env.Step(state, a).Next)).ToList();
        var advantages = StepRewards(features);
        int arg = 0;
        for (int i = 1; i < advantages.Length; i++)
            if (advantages[i] > advantages[arg]) arg = i;
        return candidates[arg];
    }

    /// <summary>Writes the magic string, a JSON header (ModelType first) and the weights to one file.</summary>
    public void Save(string path)
    {
        lock (_gate) RewardCheckpoint.Write(path, _header, writer => _net.save(writer));
    }

    /// <summary>
    /// Loads a checkpoint written by <see cref="Save"/>. The environment is looked up by the name stored in the file
    /// unless given. Weights go to <paramref name="device"/> ("auto", "cpu" or "cuda").
    /// </summary>
    public static RegretRewardModel Load(string path, IPreferenceEnvironment? env = null, string device = "auto")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var header = RewardCheckpoint.ReadHeader<CheckpointHeader>(reader, path);
        env = RewardCheckpoint.Environment(path, header.ModelType, TypeName, header.Environment, header.FeatureSize, env);
        if (!Enum.TryParse<RegretForm>(header.Form, out _))
            throw new RewardTrainingException($"{path} has an unknown regret form '{header.Form}'.");
        var dev = TorchDevices.Resolve(device);
        var net = header.BuildNetwork();
        try
        {
            net.load(reader);
            net.to(dev);
            return new RegretRewardModel(net, env, header, dev);
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _values?.Dispose();
        _planner?.Dispose();
        _net.Dispose();
    }

    private double Probability(double d) => PreferenceLikelihood.Probability(d, _header.LabelNoise);

    private static List<double[]> Candidates(ActionSpace space, int samples)
    {
        if (space.IsDiscrete) return Enumerable.Range(0, space.Count).Select(a => new double[] { a }).ToList();
        int d = space.Dimensions;
        var centre = Enumerable.Range(0, d).Select(i => (space.Low[i] + space.High[i]) / 2).ToArray();
        var list = new List<double[]> { centre, (double[])space.Low.Clone(), (double[])space.High.Clone() };
        for (int i = 0; i < d; i++)
        {
            var low = (double[])centre.Clone();
            low[i] = space.Low[i];
            var high = (double[])centre.Clone();
            high[i] = space.High[i];
            list.Add(low);
            list.Add(high);
        }
        var rng = new Random(DefaultCandidateSeed);
        for (int i = 0; i < samples; i++) list.Add(space.Sample(rng));
        return list;
    }


    /// <summary>The checkpoint header; ModelType must stay the first property (RewardCheckpoint.PeekModelType).</summary>
    internal sealed record CheckpointHeader(
        string ModelType, string Environment, int FeatureSize, string Form, int[] HiddenSizes, double LeakySlope,
        bool TanhOutput, bool Bias, bool LabelNoise, double Temperature, int Horizon)
    {
        public static CheckpointHeader For(IPreferenceEnvironment env, RegretForm form, RewardModelOptions options, double temperature, int horizon) =>
            form == RegretForm.LinearReward
                ? new(TypeName, env.Name, env.FeatureSize, form.ToString(), [], options.LeakySlope, false, false, options.LabelNoise, temperature, horizon)
                : new(TypeName, env.Name, env.FeatureSize, form.ToString(), options.HiddenSizes.ToArray(), options.LeakySlope,
                    options.TanhOutput, options.Bias, options.LabelNoise, temperature, horizon);

        /// <summary>
        /// The network this header describes. The linear form is one bias-free layer (Knox et al.'s r = w . phi), so steps
        /// with all-zero features, such as the delivery board's absorbing steps, earn exactly 0 as under the true reward.
        /// </summary>
        public Sequential BuildNetwork() => RegretNetwork.Build(FeatureSize, HiddenSizes, LeakySlope, TanhOutput, Bias);
    }
}
