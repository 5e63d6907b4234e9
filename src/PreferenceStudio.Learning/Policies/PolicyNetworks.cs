using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PreferenceStudio.Learning.Policies;

/// <summary>Tanh MLPs with orthogonal initialisation, as in the PPO implementations (SB3, CleanRL) whose defaults we follow.</summary>
internal static class PolicyNetworks
{
    /// <summary>
    /// Hidden layers get gain sqrt(2); the head gets <paramref name="headGain"/> (0.01 for the policy mean, so the first
    /// policy is close to zero-mean noise; 1 for the value).
    /// </summary>
    public static Sequential Mlp(int inputs, IReadOnlyList<int> hidden, int outputs, double headGain)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        long width = inputs;
        for (int i = 0; i < hidden.Count; i++)
        {
            layers.Add(($"fc{i}", Init(Linear(width, hidden[i]), Math.Sqrt(2))));
            layers.Add(($"act{i}", Tanh()));
            width = hidden[i];
        }
        layers.Add(("head", Init(Linear(width, outputs), headGain)));
        return Sequential(layers);
    }

    public static Linear Head(int inputs, int outputs, double gain) => Init(Linear(inputs, outputs), gain);

    public static Sequential Value(int inputs, IReadOnlyList<int> hidden) => Mlp(inputs, hidden, 1, 1.0);

    private static Linear Init(Linear layer, double gain)
    {
        using var noGrad = torch.no_grad();
        init.orthogonal_(layer.weight, gain);
        if (layer.bias is { } b) init.zeros_(b);
        return layer;
    }
}

/// <summary>
/// The policy's trainable part: an MLP body (features phi(s)), a linear head for the mean, and a learned log standard
/// deviation. Plain: one log-std per action dimension, state-independent. gSDE (Raffin et al. 2022, generalized
/// state-dependent exploration): a log-std matrix [features, actions]; exploration noise is phi(s) W with
/// W ~ N(0, exp(log_std)^2) held fixed for several steps, so the action's std is sqrt(sum_i phi_i(s)^2 sigma_ij^2) and
/// successive actions are correlated, which explores far better where single random pushes cancel out (mountain car).
/// </summary>
internal sealed class GaussianPolicyNetwork : Module<Tensor, Tensor>
{
    private const double MinVariance = 1e-6;

    private readonly Sequential body;
    private readonly Linear head;
    private readonly Parameter log_std;

    public GaussianPolicyNetwork(int inputs, int actions, IReadOnlyList<int> hidden, double initialLogStd, bool stateDependent) : base("gaussian_policy")
    {
        var mlp = PolicyNetworks.Mlp(inputs, hidden.Take(hidden.Count - 1).ToList(), hidden[^1], Math.Sqrt(2));
        body = Sequential(("mlp", mlp), ("act", Tanh()));
        head = PolicyNetworks.Head(hidden[^1], actions, 0.01);
        FeatureSize = hidden[^1];
        StateDependent = stateDependent;
        long[] shape = stateDependent ? [FeatureSize, actions] : [actions];
        log_std = new Parameter(torch.full(shape, initialLogStd, dtype: ScalarType.Float32));
        RegisterComponents();
    }

    public bool StateDependent { get; }

    public int FeatureSize { get; }

    public Parameter LogStd => log_std;

    public override Tensor forward(Tensor input) => head.forward(body.forward(input));

    /// <summary>Mean action and the body's features phi(s).</summary>
    public (Tensor Mean, Tensor Features) Forward(Tensor input)
    {
        var features = body.forward(input);
        return (head.forward(features), features);
    }

    /// <summary>Per-sample, per-dimension standard deviation of the raw action: [N, actions].</summary>
    public Tensor Std(Tensor features)
    {
        if (!StateDependent) return log_std.exp().expand(features.shape[0], -1);
        // As in SB3, the variance does not train the features: only the mean shapes phi.
        using var minVariance = MinVariance.ToScalar();
        using var one = 1.0.ToScalar();
        var variance = features.detach().square().matmul(log_std.exp().square());
        return variance.add(minVariance, one).sqrt();
    }

    /// <summary>Log density of raw (unclipped) actions under N(mean, std^2), summed over action dimensions.</summary>
    public static Tensor LogProb(Tensor means, Tensor std, Tensor raw)
    {
        using var negativeHalf = (-0.5).ToScalar();
        using var halfLogTwoPi = (0.5 * Math.Log(2 * Math.PI)).ToScalar();
        var z = (raw - means) / std;
        return (z.square().mul(negativeHalf) - std.log()).sub(halfLogTwoPi).sum(-1);
    }

    /// <summary>Entropy of the diagonal Gaussian of each sample: [N].</summary>
    public static Tensor Entropy(Tensor std)
    {
        using var constant = (0.5 + 0.5 * Math.Log(2 * Math.PI)).ToScalar();
        using var one = 1.0.ToScalar();
        // add with an explicit alpha: TorchSharp's add(x) makes a temporary Scalar for its alpha of 1 (see PpoTrainer).
        return std.log().add(constant, one).sum(-1);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            body.Dispose();
            head.Dispose();
            log_std.Dispose();
        }
        base.Dispose(disposing);
    }
}
