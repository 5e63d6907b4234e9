using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Web.Features.Campaigns;

namespace PreferenceStudio.Web.Hosting;

/// <summary>
/// A running delivery-gridworld campaign with the join code "demo", so a fresh studio has something to rate (its join
/// link needs no account, as every join link). It has no owner: administrators see it and can add members.
/// </summary>
public static class DemoCampaign
{
    public const string JoinCode = "demo";

    public static async Task EnsureAsync(IServiceProvider services)
    {
        var dbFactory = services.GetRequiredService<IDbContextFactory<StudioDbContext>>();
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            // Seeded once: a second start finds it (or the researcher's changes to it) and leaves it alone.
            if (await db.Campaigns.AnyAsync(c => c.JoinCode == JoinCode)) return;
        }
        var campaigns = services.GetRequiredService<CampaignService>();
        var created = await campaigns.CreateAsync(new CampaignSettings
        {
            Name = "Delivery demo", Environment = "delivery-gridworld", Board = "standard",
            SegmentLength = 10, PairsPerRound = 30, LabelsPerRound = 20, Rounds = 5, Seed = 1,
        }, ownerUserId: null);
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            await db.Campaigns.Where(c => c.Id == created.Id).ExecuteUpdateAsync(u => u.SetProperty(c => c.JoinCode, JoinCode));
        }
        await campaigns.StartAsync(created.Id);
    }
}
