using TorchSharp;

namespace PreferenceStudio.Learning;

/// <summary>Turns the options string "auto" | "cpu" | "cuda" into a TorchSharp device.</summary>
public static class TorchDevices
{
    /// <summary>"auto" is CUDA when a CUDA libtorch and a GPU are present, else CPU.</summary>
    public static torch.Device Resolve(string? name)
    {
        switch ((name ?? "auto").Trim().ToLowerInvariant())
        {
            case "" or "auto":
                return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
            case "cpu":
                return torch.CPU;
            case "cuda":
                if (!torch.cuda.is_available())
                    throw new InvalidOperationException("Device 'cuda' was requested but CUDA is not available (this libtorch is CPU-only or no GPU is visible). Use 'auto' or 'cpu'.");
                return torch.CUDA;
            default:
                throw new ArgumentException($"Unknown device '{name}'; use auto, cpu or cuda.", nameof(name));
        }
    }
}
