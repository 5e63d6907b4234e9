using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning;

/// <summary>
/// Re-draws every Linear layer of a module as PyTorch's default does (uniform in +-1/sqrt(fan_in)) from a private
/// generator, so a seed fixes the weights even when other threads draw from libtorch's global generator at the same
/// time (torch.manual_seed then construction is not atomic: tests training in parallel got different models from one
/// seed).
/// </summary>
internal static class LinearInitialization
{
    /// <summary>Call on the CPU, before moving the module to a device.</summary>
    public static void Reset(nn.Module module, Generator generator)
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, child) in module.named_modules())
        {
            if (child is not Linear linear) continue;
            double bound = 1.0 / Math.Sqrt(linear.weight.shape[1]);
            linear.weight.uniform_(-bound, bound, generator);
            linear.bias?.uniform_(-bound, bound, generator);
        }
    }
}
