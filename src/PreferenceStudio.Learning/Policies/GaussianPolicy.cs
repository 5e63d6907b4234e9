using System.Text;
using System.Text.Json;
using PreferenceStudio.Environments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning.Policies;

/// <summary>
/// A trained PPO policy for a continuous-action environment. It reads the environment's observation (see
/// <see cref="PolicyObservation"/>), normalised by the running statistics frozen at the end of training, with an optional
/// latent vector z appended (a policy conditioned on a rater). The network outputs a raw Gaussian action u per
/// dimension; the environment receives <c>center + halfRange * clip(u, -1, 1)</c>, so u = +-1 are the action bounds.
/// Actions are clipped, not tanh-squashed: log-probabilities are those of the raw u, which is what PPO's ratio needs.
/// </summary>
/// <remarks>Calls are serialised by a lock: a TorchSharp module is not safe for concurrent forward passes.</remarks>
public sealed class GaussianPolicy : IDisposable
{
    internal const string Magic = "preferencestudio/policy@1";

    /// <summary>The <see cref="PolicyHeader.Algorithm"/> written by PPO.</summary>
    public const string AlgorithmName = "ppo";

    private readonly Func<double[], double[]> _observe;
    private readonly double[] _center;
    private readonly double[] _half;
    private readonly Lock _gate = new();

    internal GaussianPolicy(IPreferenceEnvironment env, GaussianPolicyNetwork network, int observationSize, double[]? latent,
        int[] hiddenSizes, RunningMeanStd? observationStats)
    {
        if (env.ActionSpace.IsDiscrete)
            throw new PolicyTrainingException($"{env.Name} has discrete actions; the Gaussian policy needs continuous ones.");
        Environment = env;
        Network = network;
        ObservationSize = observationSize;
        Latent = latent;
        HiddenSizes = hiddenSizes;
        ObservationStats = observationStats;
        _observe = PolicyObservation.For(env).Observe;
        var space = env.ActionSpace;
        _center = space.Low.Zip(space.High, (l, h) => (l + h) / 2).ToArray();
        _half = space.Low.Zip(space.High, (l, h) => (h - l) / 2).ToArray();
    }

    public IPreferenceEnvironment Environment { get; }

    public int ObservationSize { get; }

    /// <summary>The latent z the policy was trained with (appended to every observation); null when unconditioned.</summary>
    public double[]? Latent { get; }

    public int LatentSize => Latent?.Length ?? 0;

    public int ActionSize => _center.Length;

    public IReadOnlyList<int> HiddenSizes { get; }

    /// <summary>Environment steps the policy was trained for (set by the trainer; kept in checkpoints).</summary>
    public long TrainedSteps { get; internal set; }

    internal GaussianPolicyNetwork Network { get; }

    internal RunningMeanStd? ObservationStats { get; }

    internal int InputSize => ObservationSize + LatentSize;

    /// <summary>Whether exploration is state-dependent (gSDE): noise phi(s) W rather than independent per step.</summary>
    public bool StateDependent => Network.StateDependent;

    /// <summary>
    /// Standard deviation of the raw action per dimension, in units of half the action range. With gSDE it depends on
    /// the state; this is then the mean noise weight exp(log_std) per dimension, a scale to watch during training.
    /// </summary>
    public double[] ActionStd()
    {
        var sigma = NoiseScale();
        if (!StateDependent) return sigma;
        int a = ActionSize, h = sigma.Length / a;
        var mean = new double[a];
        for (int i = 0; i < h; i++) for (int j = 0; j < a; j++) mean[j] += sigma[i * a + j] / h;
        return mean;
    }

    /// <summary>exp(log_std), row-major: [actions], or [features, actions] with gSDE.</summary>
    internal double[] NoiseScale()
    {
        lock (_gate)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            return Network.LogStd.exp().to_type(ScalarType.Float64).data<double>().ToArray();
        }
    }

    /// <summary>
    /// The action in <paramref name="state"/>: the mean when <paramref name="deterministic"/>, else a sample
    /// (noise from <paramref name="rng"/>, or a shared unseeded generator; with gSDE a fresh noise matrix per call).
    /// </summary>
    public double[] Act(double[] state, bool deterministic, Random? rng = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        var input = new float[InputSize];
        WriteInput(state, input);
        var (mean, features) = Means(input, 1);
        var u = new double[ActionSize];
        for (int j = 0; j < u.Length; j++) u[j] = mean[j];
        if (!deterministic)
        {
            rng ??= Random.Shared;
            var sigma = NoiseScale();
            if (StateDependent)
            {
                var noise = SampleNoiseMatrix(sigma, rng);
                AddStateDependentNoise(u, features, 0, noise);
            }
            else
            {
                for (int j = 0; j < u.Length; j++) u[j] += sigma[j] * Gaussian.Sample(rng);
            }
        }
        return ToAction(u);
    }

    /// <summary>W ~ N(0, sigma^2) elementwise, [features, actions] row-major.</summary>
    internal static double[] SampleNoiseMatrix(double[] sigma, Random rng)
    {
        var w = new double[sigma.Length];
        for (int k = 0; k < w.Length; k++) w[k] = sigma[k] * Gaussian.Sample(rng);
        return w;
    }

    /// <summary>u += phi W, phi = row <paramref name="row"/> of <paramref name="features"/>.</summary>
    internal void AddStateDependentNoise(Span<double> u, float[] features, int row, double[] w)
    {
        int h = Network.FeatureSize, a = ActionSize;
        for (int i = 0; i < h; i++)
        {
            double phi = features[row * h + i];
            for (int j = 0; j < a; j++) u[j] += phi * w[i * a + j];
        }
    }

    /// <summary>The environment action for a raw Gaussian sample: affine map of clip(u, -1, 1) onto [Low, High].</summary>
    public double[] ToAction(ReadOnlySpan<double> raw)
    {
        var a = new double[ActionSize];
        for (int j = 0; j < a.Length; j++) a[j] = _center[j] + _half[j] * Math.Clamp(raw[j], -1.0, 1.0);
        return a;
    }

    /// <summary>The network input for a state: normalised observation then latent.</summary>
    internal void WriteInput(double[] state, Span<float> into)
    {
        var obs = _observe(state);
        WriteObservation(obs, into);
    }

    internal void WriteObservation(double[] observation, Span<float> into)
    {
        if (observation.Length != ObservationSize)
            throw new ArgumentException($"The observation has {observation.Length} entries; the policy reads {ObservationSize}.");
        if (ObservationStats is { } stats) stats.Normalize(observation, into);
        else for (int j = 0; j < observation.Length; j++) into[j] = (float)observation[j];
        if (Latent is { } z) for (int j = 0; j < z.Length; j++) into[ObservationSize + j] = (float)z[j];
    }

    internal double[] Observe(double[] state) => _observe(state);

    /// <summary>Policy means (and gSDE features) of <paramref name="rows"/> inputs laid out row-major in <paramref name="inputs"/>.</summary>
    internal (float[] Means, float[] Features) Means(float[] inputs, int rows)
    {
        lock (_gate)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            Network.eval();
            var (mean, features) = Network.Forward(tensor(inputs, [rows, InputSize]));
            return (mean.data<float>().ToArray(), StateDependent ? features.data<float>().ToArray() : []);
        }
    }

    /// <summary>One file: a JSON header (architecture, environment, observation statistics) and the weights.</summary>
    public void Save(string path) => Save(path, null, null);

    internal void Save(string path, PpoTrainingState? training, Sequential? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var header = new PolicyHeader(AlgorithmName, Environment.Name, ObservationSize, Latent, ActionSize, HiddenSizes.ToArray(), StateDependent,
            ObservationStats?.Mean, ObservationStats?.Variance, ObservationStats?.Count ?? 0, TrainedSteps, training);
        // Written beside the target and moved over it, so a crash mid-write never leaves a truncated checkpoint.
        string temp = path + ".tmp";
        lock (_gate)
        {
            using (var stream = File.Create(temp))
            using (var writer = new BinaryWriter(stream, Encoding.UTF8))
            {
                writer.Write(Magic);
                writer.Write(JsonSerializer.Serialize(header));
                Network.save(writer);
                value?.save(writer);
            }
            File.Move(temp, path, overwrite: true);
        }
    }

    /// <summary>
    /// Loads a policy written by <see cref="Save"/> or a PPO training checkpoint. The environment is looked up by the
    /// name stored in the file unless given. Throws <see cref="PolicyTrainingException"/> for a file that is not one.
    /// </summary>
    public static GaussianPolicy Load(string path, IPreferenceEnvironment? env = null)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        return Read(path, reader, env).Policy;
    }

    internal static (GaussianPolicy Policy, PolicyHeader Header) Read(string path, BinaryReader reader, IPreferenceEnvironment? env)
    {
        PolicyHeader header;
        try
        {
            if (reader.ReadString() != Magic) throw new PolicyTrainingException($"{path} is not a PreferenceStudio policy file.");
            header = JsonSerializer.Deserialize<PolicyHeader>(reader.ReadString())
                ?? throw new PolicyTrainingException($"{path} has an empty policy header.");
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or IOException)
        {
            throw new PolicyTrainingException($"{path} is not a readable policy file: {e.Message}", e);
        }
        env ??= EnvironmentRegistry.Get(header.Environment);
        int observationSize = PolicyObservation.For(env).Size;
        if (env.Name != header.Environment || observationSize != header.ObservationSize || env.ActionSpace.Dimensions != header.ActionSize)
            throw new PolicyTrainingException(
                $"{path} holds a policy for {header.Environment} ({header.ObservationSize} observations, {header.ActionSize} actions), " +
                $"not {env.Name} ({observationSize}, {env.ActionSpace.Dimensions}).");
        var network = new GaussianPolicyNetwork(header.ObservationSize + (header.Latent?.Length ?? 0), header.ActionSize, header.HiddenSizes, 0, header.StateDependent);
        try
        {
            network.load(reader);
        }
        catch (Exception e) when (e is not PolicyTrainingException)
        {
            network.Dispose();
            throw new PolicyTrainingException($"{path} has unreadable policy weights: {e.Message}", e);
        }
        var stats = header.ObservationMean is { } mean && header.ObservationVariance is { } variance
            ? new RunningMeanStd(mean, variance, header.ObservationCount)
            : null;
        var policy = new GaussianPolicy(env, network, header.ObservationSize, header.Latent, header.HiddenSizes, stats)
        {
            TrainedSteps = header.Steps,
        };
        return (policy, header);
    }

    public void Dispose() => Network.Dispose();
}

/// <summary>The JSON header of a policy file. <see cref="Training"/> is present in training checkpoints only.</summary>
internal sealed record PolicyHeader(
    string Algorithm,
    string Environment,
    int ObservationSize,
    double[]? Latent,
    int ActionSize,
    int[] HiddenSizes,
    bool StateDependent,
    double[]? ObservationMean,
    double[]? ObservationVariance,
    double ObservationCount,
    long Steps,
    PpoTrainingState? Training);

/// <summary>What a restart needs besides the policy: progress so far and the return-normalisation statistics.</summary>
internal sealed record PpoTrainingState(int Iteration, long Steps, double ReturnMean, double ReturnVariance, double ReturnCount, int Seed);

/// <summary>Standard normal samples from a seeded <see cref="Random"/> (Box-Muller), so rollouts are reproducible.</summary>
internal static class Gaussian
{
    public static double Sample(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
