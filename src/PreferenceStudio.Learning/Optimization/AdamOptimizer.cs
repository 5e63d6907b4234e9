using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning.Optimization;

/// <summary>
/// Adam (Kingma and Ba 2015) with L2 weight decay, step for step what <c>torch.optim.Adam</c> computes, written here
/// because TorchSharp 0.107's own Adam passes temporary <see cref="Scalar"/>s (made from doubles at each call) to
/// native code without keeping them alive: the garbage collector may finalize one, freeing its native memory, while
/// libtorch still reads it. Seen as a rare "Expected false to be true ... toFloat" error in Adam.step when tests train
/// in parallel. Every scalar here lives in a local that is disposed only after the native calls that use it.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _firstMoment;
    private readonly Tensor[] _secondMoment;
    private readonly double _beta1, _beta2, _epsilon, _weightDecay;
    private long _step;

    public AdamOptimizer(IEnumerable<Parameter> parameters, double learningRate, double weightDecay = 0, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        _parameters = parameters.ToArray();
        LearningRate = learningRate;
        (_beta1, _beta2, _epsilon, _weightDecay) = (beta1, beta2, epsilon, weightDecay);
        using (no_grad())
        {
            // The moments outlive any dispose scope a caller has open around the optimizer's construction.
            _firstMoment = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
            _secondMoment = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        }
    }

    /// <summary>The step size; may be changed between steps (a learning-rate schedule).</summary>
    public double LearningRate { get; set; }

    /// <summary>Zeroes the parameters' gradients (as TorchSharp's optimizers do, rather than dropping them).</summary>
    public void zero_grad()
    {
        foreach (var p in _parameters)
        {
            using var grad = p.grad;
            grad?.zero_();
        }
    }

    /// <summary>One Adam update of every parameter that has a gradient.</summary>
    public void step()
    {
        _step++;
        double biasCorrection1 = 1 - Math.Pow(_beta1, _step);
        double biasCorrection2 = 1 - Math.Pow(_beta2, _step);
        using var one = 1.0.ToScalar();
        using var beta1 = _beta1.ToScalar();
        using var oneMinusBeta1 = (1 - _beta1).ToScalar();
        using var beta2 = _beta2.ToScalar();
        using var oneMinusBeta2 = (1 - _beta2).ToScalar();
        using var epsilon = _epsilon.ToScalar();
        using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var negativeStepSize = (-LearningRate / biasCorrection1).ToScalar();
        using var weightDecay = _weightDecay.ToScalar();
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            var p = _parameters[i];
            using var grad = p.grad;
            if (grad is null) continue;
            using var decayed = _weightDecay != 0 ? grad.add(p, weightDecay) : null;
            var g = decayed ?? grad;
            _firstMoment[i].mul_(beta1).add_(g, oneMinusBeta1);
            _secondMoment[i].mul_(beta2).addcmul_(g, g, oneMinusBeta2);
            using var denominator = _secondMoment[i].sqrt();
            denominator.div_(sqrtBiasCorrection2).add_(epsilon, one);
            p.addcdiv_(_firstMoment[i], denominator, negativeStepSize);
        }
    }

    public void Dispose()
    {
        foreach (var t in _firstMoment) t.Dispose();
        foreach (var t in _secondMoment) t.Dispose();
    }
}
