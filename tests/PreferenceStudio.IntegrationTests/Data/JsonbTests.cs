using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Data;

public sealed class JsonbTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Arrays_round_trip_exactly_through_jsonb()
    {
        var cs = await postgres.CreateDatabaseAsync("jsonb_roundtrip");
        double[][] states = [[0, 1], [1.0 / 3, -2.5e-300], [double.MaxValue, -0.1]];
        double[][] actions = [[4], [0.1, -2.5e-300, double.MaxValue]]; // a discrete index and a continuous control
        float[][] features = [[0.1f, float.Epsilon, -1], [1.0f / 3, 0, 7]];
        Guid segmentId, rolloutId;
        await using (var db = StudioDbContext.Create(cs))
        {
            var campaign = new Campaign { Name = "jsonb" };
            var round = new Round { CampaignId = campaign.Id, Index = 0 };
            var rollout = new Rollout { CampaignId = campaign.Id, RoundId = round.Id, States = states, Actions = actions, Epsilon = 0.1 };
            var segment = new SegmentRecord
            {
                CampaignId = campaign.Id, RolloutId = rollout.Id, States = states, Actions = actions, Features = features,
                ContentHash = SegmentRecord.ComputeContentHash(states, actions),
            };
            var bare = new SegmentRecord { CampaignId = campaign.Id, States = [[5, 5]], Actions = [], ContentHash = "x" };
            db.AddRange(campaign, round, rollout, segment, bare);
            await db.SaveChangesAsync();
            (segmentId, rolloutId) = (segment.Id, rollout.Id);
        }

        await using (var db = StudioDbContext.Create(cs))
        {
            var segment = await db.Segments.SingleAsync(s => s.Id == segmentId);
            AssertJagged(states, segment.States);
            AssertJagged(actions, segment.Actions);
            AssertJagged(features, segment.Features!);
            var rollout = await db.Rollouts.SingleAsync(r => r.Id == rolloutId);
            AssertJagged(states, rollout.States);
            Assert.Null((await db.Segments.SingleAsync(s => s.Id != segmentId)).Features);

            // Real jsonb, so SQL can look inside.
            var lengths = await db.Database
                .SqlQuery<int>($"SELECT jsonb_array_length(states) AS \"Value\" FROM segments WHERE id = {segmentId}")
                .SingleAsync();
            Assert.Equal(3, lengths);
            var types = await db.Database
                .SqlQuery<string>($"SELECT DISTINCT data_type AS \"Value\" FROM information_schema.columns WHERE table_name IN ('segments', 'rollouts') AND column_name IN ('states', 'actions', 'features')")
                .ToListAsync();
            Assert.Equal(["jsonb"], types);
        }
    }

    [Fact]
    public async Task Editing_an_array_in_place_is_saved()
    {
        var cs = await postgres.CreateDatabaseAsync("jsonb_tracking");
        Guid id;
        await using (var db = StudioDbContext.Create(cs))
        {
            var campaign = new Campaign { Name = "jsonb" };
            var segment = new SegmentRecord { CampaignId = campaign.Id, States = [[1, 1], [1, 2]], Actions = [[3]], ContentHash = "h" };
            db.AddRange(campaign, segment);
            await db.SaveChangesAsync();
            segment.States[1][1] = 9; // mutate, not replace: the value comparer must notice
            await db.SaveChangesAsync();
            id = segment.Id;
        }
        await using (var db = StudioDbContext.Create(cs))
            Assert.Equal(9, (await db.Segments.SingleAsync(s => s.Id == id)).States[1][1]);
    }

    [Fact]
    public void Content_hash_depends_on_content_only()
    {
        double[][] states = [[0, 0], [0, 1]];
        var hash = SegmentRecord.ComputeContentHash(states, [[3]]);
        Assert.Equal(hash, SegmentRecord.ComputeContentHash([[0, 0], [0, 1]], [[3]]));
        Assert.NotEqual(hash, SegmentRecord.ComputeContentHash(states, [[2]]));
        Assert.NotEqual(hash, SegmentRecord.ComputeContentHash([[0, 0], [1, 0]], [[3]]));
        // Two one-dimensional actions differ from one two-dimensional action.
        Assert.NotEqual(SegmentRecord.ComputeContentHash(states, [[1], [2]]), SegmentRecord.ComputeContentHash(states, [[1, 2]]));
        // Different row splits of the same numbers must not collide.
        Assert.NotEqual(SegmentRecord.ComputeContentHash([[0, 0, 0]], []), SegmentRecord.ComputeContentHash([[0], [0, 0]], []));
        Assert.Matches("^[0-9a-f]{64}$", hash);
    }

    private static void AssertJagged<T>(T[][] expected, T[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i]);
    }
}
