using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PreferenceStudio.Learning;

/// <summary>The per-step reward MLP: Linear + LeakyReLU per hidden layer, a scalar head, optional tanh.</summary>
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
