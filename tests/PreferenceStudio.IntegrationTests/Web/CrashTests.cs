using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// The studio process killed with SIGKILL, twice: while it renders a round's clips, and while raters are answering.
/// Each time it starts again on the same database and folder, resumes, keeps every label, and does not render or
/// train a step that was already done.
/// </summary>
public sealed class CrashTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Killing_the_studio_mid_render_and_mid_round_loses_nothing_and_repeats_nothing()
    {
        var cs = await postgres.CreateDatabaseAsync("crash");
        var dataRoot = StudioAppFactory.NewDataRoot("crash");
        const int pairs = 60, labels = 12;
        Guid campaign;
        Dictionary<Guid, DateTimeOffset?> renderedBeforeKill;

        // 1. Killed while rendering round 1's clips.
        await using (var studio = await StudioProcess.StartAsync(cs, dataRoot))
        {
            campaign = await StudioTestApi.CreateCampaignAsync(studio.CreateClient(), "crash", pairs: pairs, labels: labels, rounds: 2, seed: 9);
            renderedBeforeKill = await WaitForSomeRenderedClipsAsync(cs, campaign, studio);
            studio.Kill();
        }
        await using (var db = StudioDbContext.Create(cs))
        {
            var round = await db.Rounds.AsNoTracking().SingleAsync(r => r.CampaignId == campaign);
            Assert.Equal(RoundStatus.Preparing, round.Status);
            Assert.True(await db.Clips.CountAsync(c => c.RoundId == round.Id && c.Status == ClipStatus.Pending) > 0,
                "the kill came too late: every clip was already rendered");
        }

        // 2. Started again: the round is finished from where it stopped, then killed with labels given.
        List<Guid> labelsBeforeKill;
        await using (var studio = await StudioProcess.StartAsync(cs, dataRoot))
        {
            await StudioTestApi.WaitForRoundAsync(cs, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
            await using (var db = StudioDbContext.Create(cs))
            {
                var clips = await db.Clips.AsNoTracking().Where(c => c.Segment!.CampaignId == campaign).ToListAsync();
                Assert.Equal(2 * pairs, clips.Count);
                Assert.All(clips, c => Assert.Equal(ClipStatus.Rendered, c.Status));
                // Clips rendered before the kill were not rendered again.
                foreach (var (id, renderedAt) in renderedBeforeKill)
                    Assert.Equal(renderedAt, clips.Single(c => c.Id == id).RenderedAt);
                // Nothing was planned twice.
                Assert.Equal(1, await db.Rounds.CountAsync(r => r.CampaignId == campaign));
                Assert.Equal(pairs, await db.Comparisons.CountAsync(c => c.CampaignId == campaign));
            }
            Assert.Equal(labels - 3, await StudioTestApi.AnswerAsOracleAsync(cs, studio.CreateClient(), campaign, "sim-crash", labels - 3));
            await using (var db = StudioDbContext.Create(cs))
                labelsBeforeKill = await db.Labels.Where(l => l.CampaignId == campaign).Select(l => l.Id).ToListAsync();
            studio.Kill();
        }

        // 3. Started again: every label is there, the round completes, trains once and the next round opens.
        await using (var studio = await StudioProcess.StartAsync(cs, dataRoot))
        {
            await using (var before = StudioDbContext.Create(cs))
                Assert.Equal(labelsBeforeKill.Order(), (await before.Labels.Where(l => l.CampaignId == campaign).Select(l => l.Id).ToListAsync()).Order());
            Assert.Equal(3, await StudioTestApi.AnswerAsOracleAsync(cs, studio.CreateClient(), campaign, "sim-crash", 3));
            await StudioTestApi.WaitForRoundAsync(cs, campaign, 1, RoundStatus.Open, TimeSpan.FromSeconds(120));
            await using var db = StudioDbContext.Create(cs);
            Assert.Equal(labels, await db.Labels.CountAsync(l => l.CampaignId == campaign));
            Assert.Equal(1, await db.RewardModelRuns.CountAsync(r => r.CampaignId == campaign && r.RoundIndex == 0));
            Assert.Equal(RunStatus.Succeeded, (await db.RewardModelRuns.SingleAsync(r => r.CampaignId == campaign)).Status);
        }
    }

    private static async Task<Dictionary<Guid, DateTimeOffset?>> WaitForSomeRenderedClipsAsync(string cs, Guid campaign, StudioProcess studio)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            await using var db = StudioDbContext.Create(cs);
            var rendered = await db.Clips.AsNoTracking()
                .Where(c => c.Segment!.CampaignId == campaign && c.Status == ClipStatus.Rendered)
                .ToDictionaryAsync(c => c.Id, c => c.RenderedAt);
            if (rendered.Count >= 4) return rendered;
            await Task.Delay(50);
        }
        throw new TimeoutException("No clip was rendered within 120 s:\n" + studio.Log);
    }
}
