using TorchSharp;

namespace PreferenceStudio.Learning;

/// <summary>
/// Scalars that live as long as the process. TorchSharp 0.107's <c>add(x)</c>, <c>add_(x)</c> and the <c>+</c>
/// operator pass a temporary Scalar for their alpha of 1 to native code without keeping it alive, so the garbage
/// collector may free it while libtorch reads it (a rare "Expected false to be true ... toFloat" crash; see
/// <see cref="Optimization.AdamOptimizer"/>). Hot paths call <c>add(x, TorchConstants.One)</c> instead.
/// </summary>
internal static class TorchConstants
{
    public static readonly Scalar One = 1.0.ToScalar();
}
