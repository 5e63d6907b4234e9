using PreferenceStudio.Learning.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace PreferenceStudio.Tests.Learning;

/// <summary>The studio's Adam takes the same steps as TorchSharp's torch.optim.Adam (which it replaces, see its remarks).</summary>
public sealed class AdamOptimizerTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.01)]
    public void Follows_torch_optim_adam_step_for_step(double weightDecay)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        var ours = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1));
        var theirs = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1));
        using (no_grad())
            foreach (var (a, b) in ours.parameters().Zip(theirs.parameters())) b.copy_(a);
        using var adam = new AdamOptimizer(ours.parameters(), 0.01, weightDecay);
        using var reference = optim.Adam(theirs.parameters(), lr: 0.01, weight_decay: weightDecay);
        var x = randn(32, 4);
        var y = randn(32, 1);
        for (int step = 0; step < 50; step++)
        {
            // A learning-rate change midway, as PPO's annealing does.
            if (step == 25)
            {
                adam.LearningRate = 0.003;
                foreach (var group in reference.ParamGroups) group.LearningRate = 0.003;
            }
            adam.zero_grad();
            (ours.forward(x) - y).pow(2).mean().backward();
            adam.step();
            reference.zero_grad();
            (theirs.forward(x) - y).pow(2).mean().backward();
            reference.step();
        }
        foreach (var (a, b) in ours.parameters().Zip(theirs.parameters()))
            Assert.True((a - b).abs().max().ToDouble() < 1e-6, $"parameters differ by {(a - b).abs().max().ToDouble()}");
        // And it moved them: the loss fell.
        Assert.True((ours.forward(x) - y).pow(2).mean().ToDouble() < y.pow(2).mean().ToDouble());
    }
}
