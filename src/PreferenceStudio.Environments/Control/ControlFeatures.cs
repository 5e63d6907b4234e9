namespace PreferenceStudio.Environments.Control;

/// <summary>Reward-model features of the control tasks: the observation of s followed by the action as applied (clipped into range).</summary>
internal static class ControlFeatures
{
    public static float[] ObservationAndAction(float[] observation, double[] action, ActionSpace space)
    {
        var features = new float[observation.Length + space.Dimensions];
        observation.CopyTo(features, 0);
        for (int i = 0; i < space.Dimensions; i++)
            features[observation.Length + i] = (float)Math.Clamp(action[i], space.Low[i], space.High[i]);
        return features;
    }

    public static string? FiniteVector(double[] state, int length, string layout)
    {
        if (state.Length != length) return $"a state is [{layout}]; got {state.Length} numbers";
        for (int i = 0; i < state.Length; i++)
            if (!double.IsFinite(state[i])) return $"entry {i} of [{layout}] is {state[i]}; it must be a finite number";
        return null;
    }
}
