using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;

namespace PreferenceStudio.Tests.Environments;

public class DeliveryGridworldTests
{
    private const int Up = 0, Down = 1, Left = 2, Right = 3;

    /// <summary>A 2 x 2 board: the agent on road (0,0) or mud (1,0) moves right into <paramref name="code"/>.</summary>
    private static DeliveryGridworld BoardWith(int code) => new(new[,] { { 0, code }, { 6, code } });

    [Theory]
    [InlineData(0, -1)]    // road: gas
    [InlineData(1, 50)]    // goal
    [InlineData(3, -50)]   // sheep
    [InlineData(4, 0)]     // coin: gas + coin
    [InlineData(5, -2)]    // roadblock: gas + roadblock
    [InlineData(6, -2)]    // mud replaces gas
    [InlineData(7, 50)]    // mud + goal
    [InlineData(9, -50)]   // mud + sheep
    [InlineData(10, -1)]   // mud + coin
    [InlineData(11, -3)]   // mud + roadblock
    public void Entering_a_cell_costs_its_hand_computed_reward(int code, double reward)
    {
        var step = BoardWith(code).Step([0, 0], Right);
        Assert.Equal([0, 1], step.Next);
        Assert.Equal(reward, step.Reward);
        Assert.Equal(DeliveryGridworld.IsTerminalCell(code), step.Terminal);
    }

    [Theory]
    [InlineData(2, 0, Right, -1)]  // into a house from road
    [InlineData(8, 0, Right, -1)]  // into a mud house from road
    [InlineData(2, 1, Right, -2)]  // into a house while standing in mud
    [InlineData(0, 0, Up, -1)]     // off the grid from road
    [InlineData(0, 0, Left, -1)]
    [InlineData(0, 1, Down, -2)]   // off the grid from mud
    public void A_blocked_move_leaves_the_agent_in_place_and_costs_gas_or_mud(int code, int row, int action, double reward)
    {
        var step = BoardWith(code).Step([row, 0], action);
        Assert.Equal([row, 0], step.Next);
        Assert.Equal(reward, step.Reward);
        Assert.False(step.Terminal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(9)]
    public void Terminal_cells_are_absorbing_with_zero_reward(int code)
    {
        var env = BoardWith(code);
        Assert.True(env.IsTerminal([0, 1]));
        for (int a = 0; a < 4; a++)
        {
            var step = env.Step([0, 1], a);
            Assert.Equal([0, 1], step.Next);
            Assert.Equal(0, step.Reward);
            Assert.True(step.Terminal);
        }
    }

    [Fact]
    public void Standard_board_has_92_start_states_none_terminal_or_blocked()
    {
        var env = DeliveryGridworld.Standard;
        Assert.Equal(92, env.StartStates.Count);
        Assert.All(env.StartStates, i =>
        {
            int code = env.Cell(i / env.Cols, i % env.Cols);
            Assert.False(DeliveryGridworld.IsTerminalCell(code) || DeliveryGridworld.IsBlockedCell(code));
        });
    }

    [Fact]
    public void Standard_board_rewards_match_hand_computation()
    {
        ITabularEnvironment env = DeliveryGridworld.Standard;
        Assert.Equal(0, env.Step([1, 3], Right).Reward);    // coin at (1,4)
        Assert.Equal(-50, env.Step([2, 3], Left).Reward);   // sheep at (2,2)
        Assert.Equal(-1, env.Step([2, 4], Down).Reward);    // house at (3,4): bump
        Assert.Equal(-2, env.Step([0, 3], Left).Reward);    // roadblock at (0,2)
        Assert.Equal(50, env.Step([8, 8], Right).Reward);   // mud + goal at (8,9)
        Assert.Equal(-1, env.Step([7, 6], Right).Reward);   // mud + coin at (7,7)
    }

    [Fact]
    public void ValidateSegment_accepts_a_legal_segment_and_moves_after_a_terminal_cell()
    {
        ITabularEnvironment env = DeliveryGridworld.Standard;
        Assert.Null(env.ValidateSegment(Segment.Discrete([[2, 3], [2, 4], [2, 4], [2, 5]], [Right, Down, Right])));
        // Into the sheep at (2,2), then one absorbing move, as recorded in the human-study data.
        Assert.Null(env.ValidateSegment(Segment.Discrete([[1, 1], [1, 2], [2, 2], [2, 2]], [Right, Down, Up])));
    }

    [Fact]
    public void ValidateSegment_rejects_malformed_segments()
    {
        ITabularEnvironment env = DeliveryGridworld.Standard;
        Assert.Contains("off the", env.ValidateSegment(Segment.Discrete([[10, 0]], [])));
        Assert.Contains("house", env.ValidateSegment(Segment.Discrete([[3, 4]], [])));
        Assert.Contains("leads to", env.ValidateSegment(Segment.Discrete([[2, 3], [1, 3]], [Right])));
        Assert.Contains("one more entry", env.ValidateSegment(Segment.Discrete([[2, 3], [2, 4]], [Right, Right])));
        Assert.Contains("is not one of 0..3", env.ValidateSegment(Segment.Discrete([[2, 3], [2, 4]], [4])));
        // A move out of a terminal cell would break absorption.
        Assert.Contains("leads to", env.ValidateSegment(Segment.Discrete([[1, 2], [2, 2], [1, 2]], [Down, Up])));
    }
}
