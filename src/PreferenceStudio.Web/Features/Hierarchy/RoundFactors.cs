using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Hierarchy;

namespace PreferenceStudio.Web.Features.Hierarchy;

/// <summary>Factor values of each segment of a round, and each factor's spread over them (the HERON rule's buffer).</summary>
public sealed record RoundFactorTable(IReadOnlyDictionary<Guid, double[]> BySegment, double[] Spreads)
{
    /// <summary>The hierarchy's verdict on a pair of the round's segments, or null when no level decides (or a segment is unknown).</summary>
    public HeronVerdict? Decide(IPreferenceEnvironment env, FactorHierarchy hierarchy, Guid leftSegment, Guid rightSegment) =>
        BySegment.TryGetValue(leftSegment, out var l) && BySegment.TryGetValue(rightSegment, out var r)
            ? HeronRule.Decide(env, hierarchy, l, r, Spreads)
            : null;
}

/// <summary>
/// Builds <see cref="RoundFactorTable"/>s from stored segments. A round's segments are all stored before it opens and
/// never change, so a table is computed once per round and kept (the rating page asks for it on every pair).
/// </summary>
public sealed class RoundFactors(IDbContextFactory<StudioDbContext> dbFactory)
{
    private const int MaxCachedRounds = 256;
    private readonly ConcurrentDictionary<Guid, RoundFactorTable> _cache = new();

    /// <summary>The factor table of the round's segments in <paramref name="env"/>.</summary>
    public async Task<RoundFactorTable> ForRoundAsync(Guid roundId, IPreferenceEnvironment env, CancellationToken ct = default)
    {
        if (_cache.TryGetValue(roundId, out var cached)) return cached;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var segments = await db.Segments.AsNoTracking().Where(s => s.RoundId == roundId)
            .Select(s => new { s.Id, s.States, s.Actions }).ToListAsync(ct);
        var table = Build(env, segments.Select(s => (s.Id, new Segment(s.States, s.Actions))));
        // Rounds are few and small, but a long-running server must not grow without bound.
        if (_cache.Count >= MaxCachedRounds) _cache.Clear();
        _cache[roundId] = table;
        return table;
    }

    /// <summary>A table over the given segments (also for imported ones, which belong to no round).</summary>
    public static RoundFactorTable Build(IPreferenceEnvironment env, IEnumerable<(Guid Id, Segment Segment)> segments)
    {
        var bySegment = segments.ToDictionary(s => s.Id, s => env.SegmentFactors(s.Segment));
        return new RoundFactorTable(bySegment, HeronRule.Spreads(bySegment.Values.ToList()));
    }
}
