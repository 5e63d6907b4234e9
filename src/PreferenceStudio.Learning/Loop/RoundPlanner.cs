using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning.QuerySelection;

namespace PreferenceStudio.Learning.Loop;

/// <summary>How a round's queries are made from a policy.</summary>
/// <param name="CandidateFactor">With a query selector, how many candidate pairs are scored per pair asked.</param>
public sealed record RoundPlanSettings(int SegmentLength, int Pairs, double Epsilon = 0.2, double HeldOutFraction = 0.2, int CandidateFactor = 5);

/// <summary>A segment cut from episode <see cref="Episode"/> of the round, starting at step <see cref="StartStep"/>.</summary>
public sealed record PlannedSegment(Segment Segment, int Episode, int StartStep);

/// <summary>Indices into <see cref="PlannedRound.Segments"/>; held-out pairs measure the model and are not trained on.</summary>
public sealed record PlannedPair(int Left, int Right, bool HeldOut);

/// <summary>Everything a round shows raters: the episodes rolled out, the segments cut from them, the pairs.</summary>
public sealed record PlannedRound(IReadOnlyList<Segment> Episodes, IReadOnlyList<PlannedSegment> Segments, IReadOnlyList<PlannedPair> Pairs);

/// <summary>
/// Makes a round's queries: rolls the current policy out with epsilon-greedy exploration (the uniform policy before
/// any model exists), cuts the episodes into segments and pairs them, at random or by a query selector. The web worker
/// stores the result; the simulate verb labels it with a teacher. Same inputs and seed, same round.
/// </summary>
public static class RoundPlanner
{
    /// <summary>Plans with a tabular policy (one action index per state); null for the uniform policy.</summary>
    public static PlannedRound Plan(IPreferenceEnvironment env, int[]? policy, RoundPlanSettings settings, Random rng,
        IQuerySelector? selector = null, QueryContext? context = null)
    {
        Func<double[], double[]>? act = null;
        if (policy is not null && env is ITabularEnvironment tabular) act = s => [policy[tabular.StateIndex(s)]];
        return Plan(env, act, settings, rng, selector, context);
    }

    /// <summary>
    /// Plans with any policy (state to action); null for the uniform policy. With a <paramref name="selector"/>, the
    /// training pairs are the ones it picks among random candidate pairs of the round's segments; held-out pairs stay
    /// random picks, so the held-out measure is not biased towards what the selector finds hard.
    /// </summary>
    public static PlannedRound Plan(IPreferenceEnvironment env, Func<double[], double[]>? policy, RoundPlanSettings settings, Random rng,
        IQuerySelector? selector = null, QueryContext? context = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Pairs, 1);
        var episodes = new List<Segment>();
        var segments = new List<PlannedSegment>();
        var seen = new HashSet<Segment>();
        int wanted = 2 * settings.Pairs;
        // Enough episodes for two fresh segments per pair; bounded so a tiny state space cannot loop forever.
        for (int attempt = 0; attempt < 20 * wanted && segments.Count < wanted; attempt++)
        {
            var episode = policy is null
                ? Rollouts.CollectRandom(env, 1, rng)[0]
                : Rollouts.Collect(env, policy, 1, settings.Epsilon, rng)[0];
            var pieces = SegmentCutter.Cut(env, episode, settings.SegmentLength);
            if (pieces.Count == 0) continue;
            episodes.Add(episode);
            for (int i = 0; i < pieces.Count && segments.Count < wanted; i++)
                if (seen.Add(pieces[i]))
                    segments.Add(new PlannedSegment(pieces[i], episodes.Count - 1, i * settings.SegmentLength));
        }
        if (segments.Count < 2)
            throw new InvalidOperationException($"The policy produced fewer than two distinct segments of {settings.SegmentLength} steps; try shorter segments.");

        var pairs = selector is null || selector.Name == "random"
            ? RandomPairs(segments.Count, settings, rng)
            : SelectedPairs(segments, settings, rng, selector, context ?? new QueryContext(env, null));
        EnsureBothSplitsUsed(pairs, settings.HeldOutFraction);
        return DropUnusedSegments(episodes, segments, pairs);
    }

    private static List<PlannedPair> RandomPairs(int segmentCount, RoundPlanSettings settings, Random rng)
    {
        var order = Enumerable.Range(0, segmentCount).OrderBy(_ => rng.Next()).ToArray();
        var pairs = new List<PlannedPair>(settings.Pairs);
        for (int p = 0; p < settings.Pairs; p++)
        {
            int left, right;
            if (2 * p + 1 < order.Length) (left, right) = (order[2 * p], order[2 * p + 1]);
            else
            {
                // Fewer distinct segments than needed: reuse them, never pairing a segment with itself.
                left = rng.Next(segmentCount);
                do right = rng.Next(segmentCount); while (right == left);
            }
            pairs.Add(new PlannedPair(left, right, rng.NextDouble() < settings.HeldOutFraction));
        }
        return pairs;
    }

    private static List<PlannedPair> SelectedPairs(
        List<PlannedSegment> segments, RoundPlanSettings settings, Random rng, IQuerySelector selector, QueryContext context)
    {
        int n = segments.Count;
        long possible = (long)n * (n - 1) / 2;
        int candidateCount = (int)Math.Min(possible, (long)settings.Pairs * Math.Max(1, settings.CandidateFactor));
        var candidates = new List<(int Left, int Right)>(candidateCount);
        var taken = new HashSet<(int, int)>();
        while (candidates.Count < candidateCount)
        {
            int a = rng.Next(n), b = rng.Next(n);
            if (a == b || !taken.Add((Math.Min(a, b), Math.Max(a, b)))) continue;
            candidates.Add((a, b));
        }
        int heldOut = Enumerable.Range(0, settings.Pairs).Count(_ => rng.NextDouble() < settings.HeldOutFraction);
        int toSelect = Math.Min(settings.Pairs - heldOut, candidates.Count);
        var chosen = selector.Select(candidates.Select(c => new CandidatePair(segments[c.Left].Segment, segments[c.Right].Segment)).ToList(),
            toSelect, context, rng);
        var used = new HashSet<int>(chosen);
        var pairs = chosen.Select(i => new PlannedPair(candidates[i].Left, candidates[i].Right, false)).ToList();
        var rest = Enumerable.Range(0, candidates.Count).Where(i => !used.Contains(i)).OrderBy(_ => rng.Next()).Take(settings.Pairs - pairs.Count);
        pairs.AddRange(rest.Select(i => new PlannedPair(candidates[i].Left, candidates[i].Right, true)));
        return pairs;
    }

    // Selected pairs may leave some segments out; a round stores (and renders) only the segments it shows.
    private static PlannedRound DropUnusedSegments(List<Segment> episodes, List<PlannedSegment> segments, List<PlannedPair> pairs)
    {
        var used = pairs.SelectMany(p => new[] { p.Left, p.Right }).Distinct().Order().ToList();
        if (used.Count == segments.Count) return new PlannedRound(episodes, segments, pairs);
        var index = used.Select((old, i) => (old, i)).ToDictionary(x => x.old, x => x.i);
        return new PlannedRound(episodes, used.Select(i => segments[i]).ToList(),
            pairs.Select(p => p with { Left = index[p.Left], Right = index[p.Right] }).ToList());
    }

    // With few pairs a random split can leave the held-out or the training side empty; keep at least one of each.
    private static void EnsureBothSplitsUsed(List<PlannedPair> pairs, double heldOutFraction)
    {
        if (pairs.Count < 2 || heldOutFraction <= 0) return;
        if (pairs.All(p => !p.HeldOut)) pairs[^1] = pairs[^1] with { HeldOut = true };
        else if (pairs.All(p => p.HeldOut)) pairs[0] = pairs[0] with { HeldOut = false };
    }
}
