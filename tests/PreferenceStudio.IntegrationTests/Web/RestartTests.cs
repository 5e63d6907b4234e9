using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>A studio stopped in the middle of a round and started again keeps every label and carries on.</summary>
public sealed class RestartTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Stopping_the_host_mid_round_loses_no_label_and_the_round_goes_on()
    {
        var cs = await postgres.CreateDatabaseAsync("restart");
        var dataRoot = StudioAppFactory.NewDataRoot("restart");
        const int pairs = 24;
        Guid campaign;
        List<Guid> before;
        await using (var first = new StudioAppFactory(cs, dataRoot))
        {
            var http = first.CreateClient();
            campaign = await StudioTestApi.CreateCampaignAsync(http, "restart", pairs: pairs, labels: pairs, rounds: 2, seed: 5);
            await StudioTestApi.WaitForRoundAsync(first.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
            Assert.Equal(10, await StudioTestApi.AnswerAsOracleAsync(first.ConnectionString, http, campaign, "sim-a", 10));
            // One pair served but not yet answered when the host goes down.
            var pending = await StudioTestApi.NextAsync(http, campaign, "sim-a");
            Assert.Equal("ready", pending.GetProperty("status").GetString());
            await using var db = first.CreateDb();
            before = await db.Labels.Where(l => l.CampaignId == campaign).Select(l => l.Id).ToListAsync();
        }

        await using var second = new StudioAppFactory(cs, dataRoot);
        var client = second.CreateClient();
        await using (var db = second.CreateDb())
        {
            var after = await db.Labels.Where(l => l.CampaignId == campaign).Select(l => l.Id).ToListAsync();
            Assert.Equal(before.Order(), after.Order());
            Assert.Equal(1, await db.Rounds.CountAsync(r => r.CampaignId == campaign));
            Assert.Equal(RoundStatus.Open, (await db.Rounds.FirstAsync(r => r.CampaignId == campaign)).Status);
        }
        // The rest of the round is answered after the restart; the round closes, trains and the next one opens.
        Assert.Equal(pairs - 10, await StudioTestApi.AnswerAsOracleAsync(second.ConnectionString, client, campaign, "sim-a", pairs - 10));
        await StudioTestApi.WaitForRoundAsync(second.ConnectionString, campaign, 1, RoundStatus.Open, TimeSpan.FromSeconds(120));
        await using (var db = second.CreateDb())
        {
            Assert.Equal(pairs, await db.Labels.CountAsync(l => l.CampaignId == campaign && l.Comparison!.RoundIndex == 0));
            // Nothing was planned or trained twice.
            Assert.Equal(1, await db.RewardModelRuns.CountAsync(r => r.CampaignId == campaign && r.RoundIndex == 0));
            Assert.Equal(pairs, await db.Comparisons.CountAsync(c => c.CampaignId == campaign && c.RoundIndex == 0));
            Assert.Equal(2, await db.Rounds.CountAsync(r => r.CampaignId == campaign));
        }
    }
}
