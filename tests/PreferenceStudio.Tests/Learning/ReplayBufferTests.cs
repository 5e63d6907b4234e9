using PreferenceStudio.Learning.Policies.Sac;

namespace PreferenceStudio.Tests.Learning;

public class ReplayBufferTests
{
    /// <summary>
    /// Six transitions, observation = their number: an episode of three ending in a terminal state (0, 1, 2), one of two
    /// cut by the step limit (3, 4), and one still running (5). Rewards 1, 2, 4, 8, 16, 32.
    /// </summary>
    private static ReplayBuffer Episodes(int capacity = 16)
    {
        var buffer = new ReplayBuffer(capacity, observationSize: 1, actionSize: 1);
        bool[] terminal = [false, false, true, false, false, false];
        bool[] end = [false, false, true, false, true, false];
        var indices = new List<int>();
        for (int i = 0; i < 6; i++)
            indices.Add(buffer.Add([i], [0.5f], [i + 0.5f], terminal[i], [], trueReward: 0, episodeEnd: end[i]));
        buffer.SetRewards(indices, [1, 2, 4, 8, 16, 32]);
        return buffer;
    }

    private static (float[] Rewards, float[] Next, float[] Discount) Gather(ReplayBuffer buffer, int steps, params int[] indices)
    {
        int n = indices.Length;
        var (obs, act, rewards, next, discount) = (new float[n], new float[n], new float[n], new float[n], new float[n]);
        buffer.Gather(indices, steps, 0.5, obs, act, rewards, next, discount);
        Assert.Equal(indices.Select(i => buffer.Observation(i)[0]), obs);
        return (rewards, next, discount);
    }

    [Fact]
    public void One_step_targets_are_the_transitions_own()
    {
        var (rewards, next, discount) = Gather(Episodes(), 1, 0, 2, 4, 5);
        Assert.Equal([1f, 4, 16, 32], rewards);
        Assert.Equal([0.5f, 2.5f, 4.5f, 5.5f], next);
        // Only the terminal transition stops bootstrapping; the step limit does not.
        Assert.Equal([0.5f, 0, 0.5f, 0.5f], discount);
    }

    [Fact]
    public void N_step_targets_sum_discounted_rewards_within_the_episode()
    {
        var (rewards, next, discount) = Gather(Episodes(), 2, 0, 1, 3);
        Assert.Equal([1 + 0.5f * 2, 2 + 0.5f * 4, 8 + 0.5f * 16], rewards);
        Assert.Equal([1.5f, 2.5f, 4.5f], next);
        Assert.Equal([0.25f, 0, 0.25f], discount);

        // Longer than any episode: the walk stops at the terminal state (no bootstrap), at the step limit (bootstrap
        // from where it was cut) and at the newest transition, whose successor is not stored yet.
        (rewards, next, discount) = Gather(Episodes(), 10, 0, 3, 5);
        Assert.Equal([1 + 0.5f * 2 + 0.25f * 4, 8 + 0.5f * 16, 32], rewards);
        Assert.Equal([2.5f, 4.5f, 5.5f], next);
        Assert.Equal([0, 0.25f, 0.5f], discount);
    }

    [Fact]
    public void N_step_walks_never_wrap_from_the_newest_transition_to_the_oldest()
    {
        // Capacity 6: the ring is full and transition 5 (the newest) sits just before transition 0 (the oldest).
        var buffer = Episodes(capacity: 6);
        var (rewards, next, discount) = Gather(buffer, 3, 5);
        Assert.Equal([32f], rewards);
        Assert.Equal([5.5f], next);
        Assert.Equal([0.5f], discount);
        // Relabelling changes what the sums are made of.
        buffer.Relabel(indices => indices.Select(i => 1.0).ToArray());
        (rewards, _, _) = Gather(buffer, 3, 3);
        Assert.Equal([1 + 0.5f], rewards);
    }
}
