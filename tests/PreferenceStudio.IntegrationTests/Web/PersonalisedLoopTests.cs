using System.Net;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// A personalised campaign: a VPL model learns a latent per rater, each rater gets a policy of their own, and the next
/// round shows each rater pairs made by that rater's policy before anyone else's.
/// </summary>
public sealed class PersonalisedLoopTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Each_rater_gets_a_policy_and_pairs_of_their_own()
    {
        var cs = await postgres.CreateDatabaseAsync("personal");
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("personal"));
        var http = app.CreateClient();
        const int pairs = 20;
        string[] raters = ["rater-a", "rater-b"];
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "personal", pairs: pairs, labels: 2 * pairs, rounds: 2, seed: 4,
            extra: new Dictionary<string, object?>
            {
                ["segment_length"] = 10, ["reward_model"] = "vpl", ["query_strategy"] = "info-gain", ["personalised_policies"] = true,
            });

        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        foreach (var rater in raters)
            Assert.Equal(pairs, await StudioTestApi.AnswerAsOracleAsync(app.ConnectionString, http, campaign, rater, pairs));
        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Completed, TimeSpan.FromSeconds(180));
        var second = await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 1, RoundStatus.Open, TimeSpan.FromSeconds(120));

        await using var db = app.CreateDb();
        var run = await db.RewardModelRuns.AsNoTracking().SingleAsync(r => r.CampaignId == campaign);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal("vpl", run.ModelType);
        // The run exposes each rater's uncertainty (the spread of the rater's latent).
        var perRater = System.Text.Json.JsonDocument.Parse(run.Metrics).RootElement.GetProperty("per_rater");
        foreach (var rater in raters) Assert.True(perRater.GetProperty(rater).GetProperty("latent_std").GetDouble() > 0);

        var policies = await db.Policies.AsNoTracking().Where(p => p.CampaignId == campaign && p.RoundIndex == 1).ToListAsync();
        Assert.Equal([null, "rater-a", "rater-b"], policies.Select(p => p.RaterId).Order());
        Assert.All(policies, p => Assert.True(File.Exists(p.CheckpointPath), $"policy file {p.CheckpointPath} missing"));

        var comparisons = await db.Comparisons.AsNoTracking().Where(c => c.RoundId == second.Id).ToListAsync();
        foreach (var rater in raters)
        {
            var own = comparisons.Where(c => c.ForRaterId == rater).ToList();
            Assert.NotEmpty(own);
            var ownPolicy = policies.Single(p => p.RaterId == rater);
            Assert.All(own, c => Assert.Equal(ownPolicy.Id, c.PolicyId));
            // The first pair a rater is served in the new round is one of their own.
            var next = await StudioTestApi.NextAsync(http, campaign, rater);
            var served = next.GetProperty("pair").GetProperty("comparison_id").GetGuid();
            Assert.Contains(served, own.Select(c => c.Id));
        }
        // Nobody is served another rater's pairs.
        var newcomer = await StudioTestApi.NextAsync(http, campaign, "rater-c");
        var newcomerPair = newcomer.GetProperty("pair").GetProperty("comparison_id").GetGuid();
        Assert.Null(comparisons.Single(c => c.Id == newcomerPair).ForRaterId);

        // Ranking a rater's pairs by information gain runs on its own torch thread: with the training thread held (as
        // by another campaign's PPO run), the rater's next pair still comes.
        var training = app.Service<PreferenceStudio.Learning.TorchTrainingThread>();
        using var hold = new ManualResetEventSlim();
        var held = training.RunAsync(() => hold.Wait(TimeSpan.FromMinutes(2)));
        try
        {
            var first = (await StudioTestApi.NextAsync(http, campaign, "rater-a")).GetProperty("pair").GetProperty("comparison_id").GetGuid();
            Assert.Equal(HttpStatusCode.OK, (await StudioTestApi.AnswerAsync(http, campaign, first, "rater-a", "left", key: "held-" + first)).StatusCode);
            var next = StudioTestApi.NextAsync(http, campaign, "rater-a");
            var answered = await next.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal("ready", answered.GetProperty("status").GetString());
            Assert.False(held.IsCompleted, "the training thread was released before the rater was answered");
        }
        finally
        {
            hold.Set();
            await held;
        }
    }
}
