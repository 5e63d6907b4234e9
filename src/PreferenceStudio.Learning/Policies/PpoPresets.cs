using PreferenceStudio.Environments.Control;

namespace PreferenceStudio.Learning.Policies;

/// <summary>
/// PPO settings that solved each control task on the true reward (README, "Measured"; one seed each): Pendulum needs
/// an annealed learning rate to pass -200; mountain car needs state-dependent exploration (gSDE) and gamma 0.99, or
/// PPO settles on doing nothing; navigation needs gamma 0.99 for its long paths. Other environments get the defaults.
/// The campaign loop, simulate and train-policy all start from these.
/// </summary>
public static class PpoPresets
{
    public static PpoOptions For(string environment) => environment switch
    {
        Pendulum.EnvironmentName => new PpoOptions { AnnealLearningRate = true },
        MountainCar.EnvironmentName => new PpoOptions { StateDependentExploration = true, Gamma = 0.99 },
        MultiGoalNavigation.EnvironmentName => new PpoOptions { Gamma = 0.99 },
        _ => new PpoOptions(),
    };
}
