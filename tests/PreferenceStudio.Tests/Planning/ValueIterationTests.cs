using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Planning;

namespace PreferenceStudio.Tests.Planning;

public class ValueIterationTests
{
    private static readonly DeliveryGridworld Env = DeliveryGridworld.Standard;

    private static PlanningResult SolveTrue(ITabularEnvironment env, int? horizon = null) =>
        ValueIteration.Solve(env, (s, a) => env.Step(env.StateAt(s), a).Reward, 1.0, horizon);

    [Fact]
    public void Optimal_value_next_to_the_goal_is_the_goal_reward()
    {
        var result = SolveTrue(Env);
        // (9, 9) is a coin cell right below the mud+goal at (8, 9): one move up earns +50 and ends the episode.
        int s = Env.StateIndex([9, 9]);
        Assert.Equal(50, result.Values[s], 9);
        Assert.Equal(0, result.Policy[s]);
        Assert.Equal(0, result.Values[Env.StateIndex([8, 9])]);
    }

    [Fact]
    public void Optimal_policy_has_scaled_return_one_and_a_fixed_bad_policy_much_less()
    {
        var optimal = ScaledReturn.Evaluate(Env, SolveTrue(Env).Policy);
        Assert.Equal(1.0, optimal.ScaledReturn, 9);
        Assert.True(optimal.OptimalValue > optimal.UniformValue + 10);

        var alwaysUp = new int[Env.StateCount];
        Assert.True(ScaledReturn.Compute(Env, alwaysUp) < 0.5);
    }

    [Fact]
    public void Single_cell_board_breaks_ties_to_the_lowest_action()
    {
        // Every move bumps the edge and costs 1, so V^uniform = V* = -horizon and every policy is optimal.
        var single = new DeliveryGridworld(new[,] { { 0 } });
        var table = TransitionTable.Build(single);
        var reward = TabularRewards.True(single, table);
        Assert.Equal(-5, PolicyEvaluation.Uniform(table, reward, 5)[0], 9);
        var solved = ValueIteration.Solve(table, reward, 1.0, 5);
        Assert.Equal(-5, solved.Values[0], 9);
        Assert.Equal(0, solved.Policy[0]); // all actions tie: the lowest index wins
        Assert.Equal(1.0, ScaledReturn.Compute(single, solved.Policy, 5));
    }

    [Fact]
    public void Hand_made_corridor_has_the_values_worked_out_by_hand()
    {
        // road, road, goal in a 1 x 3 corridor.
        var corridor = new DeliveryGridworld(new[,] { { 0, 0, 1 } });
        var table = TransitionTable.Build(corridor);
        var reward = TabularRewards.True(corridor, table);
        var solved = ValueIteration.Solve(table, reward, 1.0, 10);
        Assert.Equal(49, solved.Values[0], 9);
        Assert.Equal(50, solved.Values[1], 9);
        Assert.Equal(3, solved.Policy[0]);
        Assert.Equal(3, solved.Policy[1]);

        // Uniform from the middle cell: h=1: (-1 - 1 - 1 + 50) / 4 = 11.75.
        // h=2: up/down stay (-1 + 11.75 each), left -1 + V1(left cell) = -2, right +50 => 69.5 / 4.
        Assert.Equal(11.75, PolicyEvaluation.Uniform(table, reward, 1)[1], 9);
        Assert.Equal(17.375, PolicyEvaluation.Uniform(table, reward, 2)[1], 9);

        var alwaysLeft = new[] { 2, 2, 0 };
        Assert.Equal(-10, PolicyEvaluation.Deterministic(table, reward, alwaysLeft, 10)[1], 9);
        var result = ScaledReturn.Evaluate(corridor, alwaysLeft, 10);
        Assert.True(result.ScaledReturn < 0);
        Assert.Equal((result.PolicyValue - result.UniformValue) / (result.OptimalValue - result.UniformValue), result.ScaledReturn, 12);
    }

    [Fact]
    public void Sheep_on_one_side_and_goal_on_the_other_picks_the_goal()
    {
        var board = new DeliveryGridworld(new[,] { { 3, 0, 1 } });
        var solved = ValueIteration.Solve(board, (s, a) => board.Step(board.StateAt(s), a).Reward, 1.0, 4);
        Assert.Equal(3, solved.Policy[1]);
        Assert.Equal(-50, solved.QValues[1, 2], 9);
        Assert.Equal(50, solved.Values[1], 9);
    }

    [Fact]
    public void A_positive_loop_under_a_learned_reward_stays_finite_within_the_horizon()
    {
        var corridor = new DeliveryGridworld(new[,] { { 0, 0, 1 } });
        var solved = ValueIteration.Solve(corridor, (s, a) => 1.0, 1.0, 7);
        Assert.Equal(7, solved.Values[0], 9);
    }
}
