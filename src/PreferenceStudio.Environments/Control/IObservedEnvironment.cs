namespace PreferenceStudio.Environments.Control;

/// <summary>
/// A continuous-control environment whose full physical state (what <see cref="Segment"/> stores, so re-stepping
/// reproduces it exactly) differs from what an agent observes: pendulum keeps the unwrapped angle but is observed
/// as (cos, sin, angular velocity). Policies read <see cref="Observe"/>; reward models read
/// <see cref="IPreferenceEnvironment.StepFeatures"/>, which for these tasks is Observe(s) followed by the action a.
/// </summary>
public interface IObservedEnvironment : IPreferenceEnvironment
{
    int ObservationSize { get; }

    IReadOnlyList<string> ObservationNames { get; }

    /// <summary>The observation of <paramref name="state"/>, <see cref="ObservationSize"/> floats.</summary>
    float[] Observe(double[] state);
}
