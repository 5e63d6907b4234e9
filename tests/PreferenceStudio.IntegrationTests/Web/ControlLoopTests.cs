using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Media;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// The loop on a continuous-control task through the real host: pendulum clips rendered, an oracle rater over HTTP, a
/// reward model trained, a PPO policy trained on it within the campaign's step budget and evaluated on the true reward,
/// and the next round rolled out from that policy.
/// </summary>
public sealed class ControlLoopTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task A_pendulum_round_trains_a_ppo_policy_that_makes_the_next_round()
    {
        var cs = await postgres.CreateDatabaseAsync("control");
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("control"));
        var http = app.CreateClient();
        const int pairs = 16;
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "pendulum", pairs: pairs, labels: pairs, rounds: 2, seed: 5,
            extra: new Dictionary<string, object?>
            {
                ["environment"] = "pendulum", ["segment_length"] = 20, ["policy_steps"] = 2048, ["policy_learner"] = "ppo",
                ["environment_parameters"] = new Dictionary<string, double> { ["episode_steps"] = 60 },
            });

        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        Assert.Equal(pairs, await StudioTestApi.AnswerAsOracleAsync(app.ConnectionString, http, campaign, "sim-oracle", pairs, "pendulum"));
        var first = await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Completed, TimeSpan.FromSeconds(180));
        var second = await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 1, RoundStatus.Open, TimeSpan.FromSeconds(120));

        await using var db = app.CreateDb();
        var run = await db.RewardModelRuns.AsNoTracking().SingleAsync(r => r.CampaignId == campaign);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        var policy = await db.Policies.AsNoTracking().FirstAsync(p => p.Id == second.PolicyId);
        Assert.Equal("ppo", policy.Kind);
        Assert.Equal(run.Id, policy.RewardModelRunId);
        Assert.True(File.Exists(policy.CheckpointPath), $"policy file {policy.CheckpointPath} missing");
        // Evaluated on the true reward over whole (60-step) episodes: a pendulum return is negative and bounded.
        Assert.NotNull(first.MeanReturn);
        Assert.InRange(first.MeanReturn!.Value, -60 * 16.3, 0);
        Assert.Null(first.ScaledReturn);

        // The next round's rollouts come from the PPO policy (with epsilon exploration) and their clips play.
        var rollouts = await db.Rollouts.AsNoTracking().Where(r => r.RoundId == second.Id).ToListAsync();
        Assert.NotEmpty(rollouts);
        Assert.All(rollouts, r => Assert.Equal(policy.Id, r.PolicyId));
        Assert.All(rollouts, r => Assert.All(r.Actions, a => Assert.InRange(a.Single(), -2, 2)));
        var clips = await db.Clips.AsNoTracking().Where(c => c.RoundId == second.Id).ToListAsync();
        Assert.NotEmpty(clips);
        Assert.All(clips, c => Assert.Equal(ClipStatus.Rendered, c.Status));
        var probe = Ffprobe.Probe(Path.Combine(app.DataRoot, "media", clips[0].FileName));
        Assert.Equal(clips[0].Frames, probe.Frames);

        var detail = await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/campaigns/{campaign}");
        Assert.Equal(first.MeanReturn!.Value, detail.GetProperty("rounds")[0].GetProperty("mean_return").GetDouble(), 6);
    }

    [Fact]
    public async Task A_sac_campaign_explores_first_then_relabels_and_extends_the_same_replay_buffer_each_round()
    {
        var cs = await postgres.CreateDatabaseAsync("control-sac");
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("control-sac"));
        var http = app.CreateClient();
        const int pairs = 16, explore = 1_500, steps = 1_000;
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "pendulum-sac", pairs: pairs, labels: pairs, rounds: 2, seed: 6,
            extra: new Dictionary<string, object?>
            {
                ["environment"] = "pendulum", ["segment_length"] = 20, ["policy_steps"] = steps, ["policy_learner"] = "sac",
                ["exploration_steps"] = explore, ["surf"] = true,
                ["environment_parameters"] = new Dictionary<string, double> { ["episode_steps"] = 60 },
            });

        var opened = await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(240));
        await using (var db = app.CreateDb())
        {
            // The first round's clips come from the explorer, not from random actions.
            var explorer = await db.Policies.AsNoTracking().FirstAsync(p => p.Id == opened.PolicyId);
            Assert.Equal("sac", explorer.Kind);
            Assert.True(File.Exists(explorer.CheckpointPath), $"explorer file {explorer.CheckpointPath} missing");
            Assert.All(await db.Rollouts.AsNoTracking().Where(r => r.RoundId == opened.Id).ToListAsync(), r => Assert.Equal(explorer.Id, r.PolicyId));
        }
        Assert.Equal(pairs, await StudioTestApi.AnswerAsOracleAsync(app.ConnectionString, http, campaign, "sim-oracle", pairs, "pendulum"));
        var first = await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Completed, TimeSpan.FromSeconds(240));
        var second = await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 1, RoundStatus.Open, TimeSpan.FromSeconds(120));

        await using var check = app.CreateDb();
        var run = await check.RewardModelRuns.AsNoTracking().SingleAsync(r => r.CampaignId == campaign);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        var metrics = PreferenceStudio.Learning.Loop.RewardModelMetrics.Parse(run.Metrics);
        // SURF trained on one crop per labelled training pair, and says how many pseudo-labels it added.
        Assert.Equal(run.NTrain, metrics.SurfCrops);
        Assert.NotNull(metrics.SurfPseudoLabels);
        var policy = await check.Policies.AsNoTracking().FirstAsync(p => p.Id == second.PolicyId);
        Assert.Equal("sac", policy.Kind);
        Assert.NotNull(first.MeanReturn);
        Assert.InRange(first.MeanReturn!.Value, -60 * 16.3, 0);
        // The round's agent continued the explorer: one replay buffer holding both, its rewards the learned model's.
        var env = PreferenceStudio.Environments.EnvironmentRegistry.Create("pendulum", new Dictionary<string, double> { ["episode_steps"] = 60 });
        using (var agent = PreferenceStudio.Learning.Policies.Sac.SacAgent.Load(policy.CheckpointPath!, env))
        {
            Assert.Equal(explore + steps, agent.Steps);
            Assert.Equal(explore + steps, agent.Buffer.Count);
            using var model = PreferenceStudio.Learning.RewardModels.Load(run.CheckpointPath!, env, "cpu");
            var learned = (model.StepRewards([agent.Buffer.Features(0)])[0] - agent.RewardShift) / agent.RewardScale;
            Assert.Equal(learned, agent.Buffer.Reward(0), 3);
        }
        var rollouts = await check.Rollouts.AsNoTracking().Where(r => r.RoundId == second.Id).ToListAsync();
        Assert.NotEmpty(rollouts);
        Assert.All(rollouts, r => Assert.Equal(policy.Id, r.PolicyId));
    }
}
