using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace PreferenceStudio.Learning;

/// <summary>
/// The per-step reward MLP as one module: Linear + LeakyReLU per hidden layer, a scalar head, optional tanh. The layout
/// of Bradley-Terry checkpoints written before ensembles, and the network other reward models build on.
/// </summary>
internal static class RewardNetwork
{
    public static Sequential Build(int featureSize, IReadOnlyList<int> hiddenSizes, double leakySlope, bool tanhOutput, bool bias)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        long inputs = featureSize;
        for (int i = 0; i < hiddenSizes.Count; i++)
        {
            layers.Add(($"fc{i}", Linear(inputs, hiddenSizes[i], hasBias: bias)));
            layers.Add(($"act{i}", LeakyReLU(leakySlope)));
            inputs = hiddenSizes[i];
        }
        layers.Add(("head", Linear(inputs, 1, hasBias: bias)));
        if (tanhOutput) layers.Add(("tanh", Tanh()));
        return Sequential(layers);
    }

    /// <summary>Sum of per-step rewards over each segment's real steps: [N, T, F] x [N, T] -> [N].</summary>
    public static Tensor SegmentReturns(Sequential net, Tensor features, Tensor mask) =>
        (net.forward(features).squeeze(-1) * mask).sum(1);
}

/// <summary>
/// K per-step reward MLPs (Linear + LeakyReLU per hidden layer, a scalar head, optional tanh) stored as batched
/// weights [K, in, out], so one batched matrix product runs every member: an ensemble of three small networks costs
/// about as many kernel launches as one, and members stay independent (Adam is element-wise, each member has its own loss).
/// </summary>
internal sealed class EnsembleNetwork : Module<Tensor, Tensor>
{
    private readonly List<Parameter> _weights = [];
    private readonly List<Parameter?> _biases = [];
    private readonly double _leakySlope;
    private readonly bool _tanhOutput;

    /// <param name="generator">Draws the initial weights; null: libtorch's global generator (shared by every thread).</param>
    public EnsembleNetwork(int members, int featureSize, IReadOnlyList<int> hiddenSizes, double leakySlope, bool tanhOutput, bool bias,
        Generator? generator = null)
        : base(nameof(EnsembleNetwork))
    {
        Members = members;
        FeatureSize = featureSize;
        _leakySlope = leakySlope;
        _tanhOutput = tanhOutput;
        var sizes = hiddenSizes.Prepend(featureSize).Append(1).ToArray();
        using var noGrad = torch.no_grad();
        for (int l = 0; l + 1 < sizes.Length; l++)
        {
            // torch.nn.Linear's default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
            double bound = 1.0 / Math.Sqrt(sizes[l]);
            var w = new Parameter(torch.empty(members, sizes[l], sizes[l + 1]).uniform_(-bound, bound, generator));
            register_parameter($"w{l}", w);
            _weights.Add(w);
            Parameter? b = null;
            if (bias)
            {
                b = new Parameter(torch.empty(members, 1, sizes[l + 1]).uniform_(-bound, bound, generator));
                register_parameter($"b{l}", b);
            }
            _biases.Add(b);
        }
    }

    public int Members { get; }

    public int FeatureSize { get; }

    /// <summary>Per-step rewards of each member on its own rows: [K, R, F] -> [K, R].</summary>
    public override Tensor forward(Tensor x)
    {
        for (int l = 0; l < _weights.Count; l++)
        {
            x = x.bmm(_weights[l]);
            if (_biases[l] is { } b) x = x.add_(b, TorchConstants.One);
            if (l + 1 < _weights.Count) x = F.leaky_relu(x, _leakySlope);
        }
        x = x.squeeze(-1);
        return _tanhOutput ? x.tanh() : x;
    }

    /// <summary>Every member on the same rows: [R, F] -> [K, R].</summary>
    public Tensor Shared(Tensor rows) => forward(rows.unsqueeze(0).expand(Members, rows.shape[0], rows.shape[1]));

    /// <summary>Each member's segment returns on the same segments: [N, T, F] x [N, T] -> [K, N].</summary>
    public Tensor SharedSegmentReturns(Tensor features, Tensor mask)
    {
        long n = features.shape[0], t = features.shape[1];
        var steps = Shared(features.reshape(n * t, features.shape[2])).reshape(Members, n, t);
        return (steps * mask.unsqueeze(0)).sum(2);
    }

    /// <summary>Member k's returns on its own segments: [K*B, T, F] x [K*B, T] (member-major) -> [K, B].</summary>
    public Tensor MemberSegmentReturns(Tensor features, Tensor mask)
    {
        long b = features.shape[0] / Members, t = features.shape[1];
        var steps = forward(features.reshape(Members, b * t, features.shape[2])).reshape(Members, b, t);
        return (steps * mask.reshape(Members, b, t)).sum(2);
    }

    /// <summary>
    /// A one-member network holding the weights of a checkpoint written before ensembles (a <see cref="Sequential"/>
    /// of Linear layers named fc0.., head, whose weights are [out, in]).
    /// </summary>
    public static EnsembleNetwork FromLegacy(BinaryReader reader, int featureSize, IReadOnlyList<int> hiddenSizes, double leakySlope, bool tanhOutput, bool bias)
    {
        using var legacy = RewardNetwork.Build(featureSize, hiddenSizes, leakySlope, tanhOutput, bias);
        legacy.load(reader);
        var net = new EnsembleNetwork(1, featureSize, hiddenSizes, leakySlope, tanhOutput, bias);
        var source = legacy.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var noGrad = torch.no_grad();
        for (int l = 0; l < net._weights.Count; l++)
        {
            string layer = l < hiddenSizes.Count ? $"fc{l}" : "head";
            net._weights[l].copy_(source[$"{layer}.weight"].t().unsqueeze(0));
            if (net._biases[l] is { } b) b.copy_(source[$"{layer}.bias"].reshape(1, 1, -1));
        }
        return net;
    }
}
