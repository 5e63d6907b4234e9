using PreferenceStudio.Learning.Policies;

namespace PreferenceStudio.Tests.Learning;

public class PolicyCheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("policy-tests").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Saved_policy_loads_with_identical_actions_latent_and_statistics(bool stateDependent)
    {
        var env = new PointTask();
        var options = PpoTrainerTests.Quick(2 * 512) with { StateDependentExploration = stateDependent };
        using var trained = new PpoTrainer().Train(env, TrueRewardSource.Instance, options, latent: [0.5, -1.5]).Policy;
        Assert.Equal(stateDependent, trained.StateDependent);
        string path = Path.Combine(_dir, "policy.bin");
        trained.Save(path);
        using var loaded = GaussianPolicy.Load(path, env);

        Assert.Equal(stateDependent, loaded.StateDependent);
        Assert.Equal([0.5, -1.5], loaded.Latent!);
        Assert.Equal(trained.TrainedSteps, loaded.TrainedSteps);
        Assert.Equal(2 * 512, loaded.TrainedSteps);
        Assert.Equal(trained.ActionStd(), loaded.ActionStd());
        var rng = new Random(5);
        for (int i = 0; i < 20; i++)
        {
            double[] state = [rng.NextDouble() * 4 - 2, rng.Next(20)];
            Assert.Equal(trained.Act(state, deterministic: true), loaded.Act(state, deterministic: true));
            Assert.Equal(trained.Act(state, false, new Random(i)), loaded.Act(state, false, new Random(i)));
        }
    }

    [Fact]
    public void Resuming_continues_from_the_checkpoint_step_count()
    {
        var env = new PointTask();
        string path = Path.Combine(_dir, "run.ckpt");
        var options = PpoTrainerTests.Quick(2 * 512) with { CheckpointPath = path, CheckpointEvery = 1 };
        var first = new PpoTrainer().Train(env, TrueRewardSource.Instance, options);
        first.Policy.Dispose();
        Assert.Equal(0, first.StartSteps);
        Assert.True(File.Exists(path));

        var reports = new List<PolicyTrainingProgress>();
        var second = new PpoTrainer().Train(env, TrueRewardSource.Instance, options with { TotalSteps = 4 * 512 },
            progress: new Collect(reports), resumeFrom: path);
        using var policy = second.Policy;

        Assert.Equal(2 * 512, second.StartSteps);
        Assert.Equal(4 * 512, second.Steps);
        Assert.Equal(4, second.Iterations);
        Assert.Equal([3 * 512L, 4 * 512L], reports.Select(r => r.Steps));
        Assert.Equal([3, 4], reports.Select(r => r.Iteration));
        using var reloaded = GaussianPolicy.Load(path, env);
        Assert.Equal(4 * 512, reloaded.TrainedSteps);
    }

    [Fact]
    public void A_missing_resume_file_starts_fresh_and_a_finished_policy_cannot_be_resumed()
    {
        var env = new PointTask();
        string missing = Path.Combine(_dir, "none.ckpt");
        var result = new PpoTrainer().Train(env, TrueRewardSource.Instance, PpoTrainerTests.Quick(512), resumeFrom: missing);
        string finished = Path.Combine(_dir, "final.bin");
        result.Policy.Save(finished);
        result.Policy.Dispose();
        Assert.Equal(0, result.StartSteps);

        var error = Assert.Throws<PolicyTrainingException>(() =>
            new PpoTrainer().Train(env, TrueRewardSource.Instance, PpoTrainerTests.Quick(1024), resumeFrom: finished));
        Assert.Contains("not a training checkpoint", error.Message);
        File.WriteAllText(Path.Combine(_dir, "junk.bin"), "not a policy");
        Assert.Throws<PolicyTrainingException>(() => GaussianPolicy.Load(Path.Combine(_dir, "junk.bin"), env));
    }

    /// <summary>Records reports synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class Collect(List<PolicyTrainingProgress> into) : IProgress<PolicyTrainingProgress>
    {
        public void Report(PolicyTrainingProgress value) => into.Add(value);
    }
}
