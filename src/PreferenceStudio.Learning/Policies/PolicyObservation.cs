using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;

namespace PreferenceStudio.Learning.Policies;

/// <summary>How a policy turns an environment's state into its input.</summary>
public static class PolicyObservation
{
    /// <summary>
    /// The environment's observation (<see cref="IObservedEnvironment"/>, e.g. pendulum's cos/sin/velocity, since an
    /// MLP learns badly across a wrapping angle) when it has one, else the state vector itself (its length read from a
    /// start state, since <see cref="IPreferenceEnvironment"/> does not declare a state size).
    /// </summary>
    public static (int Size, Func<double[], double[]> Observe) For(IPreferenceEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (env is IObservedEnvironment observed)
            return (observed.ObservationSize, state => Array.ConvertAll(observed.Observe(state), v => (double)v));
        int size = env.SampleStart(new Random(0)).Length;
        return (size, state => state);
    }
}
