using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PreferenceStudio.Learning.Regret;

/// <summary>
/// The regret model's per-step network (r_hat or A_hat): Linear + LeakyReLU per hidden layer and a scalar head; with
/// no hidden layers and no bias it is the linear reward w . phi.
/// </summary>
internal static class RegretNetwork
{
    public static Sequential Build(int featureSize, IReadOnlyList<int> hiddenSizes, double leakySlope, bool tanhOutput, bool bias)
    {
        var net = RewardNetwork.Build(featureSize, hiddenSizes, leakySlope, tanhOutput, bias);
        // Double precision, as the authors' model: V_hat* sums up to a horizon of rewards, and small float32 matrix
        // products gave run-to-run differences in the last bit that broke reproducible predictions.
        net.to(ScalarType.Float64);
        return net;
    }

    /// <summary>Per-row outputs in float64: [..., F] -> [...].</summary>
    public static Tensor Forward(Sequential net, Tensor features) =>
        net.forward(features.to_type(ScalarType.Float64)).squeeze(-1);

    /// <summary>Sum of per-step outputs over each segment's counted steps: [N, T, F] x [N, T] -> [N], float64.</summary>
    public static Tensor SegmentSums(Sequential net, Tensor features, Tensor mask) =>
        (Forward(net, features) * mask).sum(1);
}
