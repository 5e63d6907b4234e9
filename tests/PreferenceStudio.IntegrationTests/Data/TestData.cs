using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;

namespace PreferenceStudio.IntegrationTests.Data;

/// <summary>Small, fixed rows for data-layer tests.</summary>
internal static class TestData
{
    public static async Task<(Campaign Campaign, Comparison Comparison)> AddCampaignWithComparisonAsync(StudioDbContext db)
    {
        var campaign = new Campaign { Name = "test", SegmentLength = 2, PairsPerRound = 4, LabelsPerRound = 4, RoundCount = 2, Seed = 7 };
        var left = SegmentRecord.From(campaign.Id, Segment.Discrete([[0, 0], [0, 1], [0, 2]], [3, 3]));
        var right = SegmentRecord.From(campaign.Id, Segment.Discrete([[1, 0], [2, 0], [3, 0]], [1, 1]));
        var comparison = new Comparison
        {
            CampaignId = campaign.Id, LeftSegmentId = left.Id, RightSegmentId = right.Id, Ordinal = 0,
        };
        db.AddRange(campaign, left, right, comparison);
        await db.SaveChangesAsync();
        return (campaign, comparison);
    }
}
