using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;

namespace PreferenceStudio.Learning.Loop;

/// <summary>How a round's queries are made from a policy.</summary>
public sealed record RoundPlanSettings(int SegmentLength, int Pairs, double Epsilon = 0.2, double HeldOutFraction = 0.2);

/// <summary>A segment cut from episode <see cref="Episode"/> of the round, starting at step <see cref="StartStep"/>.</summary>
public sealed record PlannedSegment(Segment Segment, int Episode, int StartStep);

/// <summary>Indices into <see cref="PlannedRound.Segments"/>; held-out pairs measure the model and are not trained on.</summary>
public sealed record PlannedPair(int Left, int Right, bool HeldOut);

/// <summary>Everything a round shows raters: the episodes rolled out, the segments cut from them, the pairs.</summary>
public sealed record PlannedRound(IReadOnlyList<Segment> Episodes, IReadOnlyList<PlannedSegment> Segments, IReadOnlyList<PlannedPair> Pairs);

/// <summary>
/// Makes a round's queries: rolls the current policy out with epsilon-greedy exploration (the uniform policy before
/// any model exists), cuts the episodes into segments and pairs them at random. The web worker stores the result;
/// the simulate verb labels it with a teacher. Same inputs and seed, same round.
/// </summary>
public static class RoundPlanner
{
    public static PlannedRound Plan(IPreferenceEnvironment env, int[]? policy, RoundPlanSettings settings, Random rng)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Pairs, 1);
        var episodes = new List<Segment>();
        var segments = new List<PlannedSegment>();
        var seen = new HashSet<Segment>();
        int wanted = 2 * settings.Pairs;
        // Enough episodes for two fresh segments per pair; bounded so a tiny state space cannot loop forever.
        for (int attempt = 0; attempt < 20 * wanted && segments.Count < wanted; attempt++)
        {
            var episode = policy is null || env is not ITabularEnvironment tabular
                ? Rollouts.CollectRandom(env, 1, rng)[0]
                : Rollouts.Collect(tabular, policy, 1, settings.Epsilon, rng)[0];
            var pieces = SegmentCutter.Cut(env, episode, settings.SegmentLength);
            if (pieces.Count == 0) continue;
            episodes.Add(episode);
            for (int i = 0; i < pieces.Count && segments.Count < wanted; i++)
                if (seen.Add(pieces[i]))
                    segments.Add(new PlannedSegment(pieces[i], episodes.Count - 1, i * settings.SegmentLength));
        }
        if (segments.Count < 2)
            throw new InvalidOperationException($"The policy produced fewer than two distinct segments of {settings.SegmentLength} steps; try shorter segments.");

        var order = Enumerable.Range(0, segments.Count).OrderBy(_ => rng.Next()).ToArray();
        var pairs = new List<PlannedPair>(settings.Pairs);
        for (int p = 0; p < settings.Pairs; p++)
        {
            int left, right;
            if (2 * p + 1 < order.Length) (left, right) = (order[2 * p], order[2 * p + 1]);
            else
            {
                // Fewer distinct segments than needed: reuse them, never pairing a segment with itself.
                left = rng.Next(segments.Count);
                do right = rng.Next(segments.Count); while (right == left);
            }
            pairs.Add(new PlannedPair(left, right, rng.NextDouble() < settings.HeldOutFraction));
        }
        EnsureBothSplitsUsed(pairs, settings.HeldOutFraction);
        return new PlannedRound(episodes, segments, pairs);
    }

    // With few pairs a random split can leave the held-out or the training side empty; keep at least one of each.
    private static void EnsureBothSplitsUsed(List<PlannedPair> pairs, double heldOutFraction)
    {
        if (pairs.Count < 2 || heldOutFraction <= 0) return;
        if (pairs.All(p => !p.HeldOut)) pairs[^1] = pairs[^1] with { HeldOut = true };
        else if (pairs.All(p => p.HeldOut)) pairs[0] = pairs[0] with { HeldOut = false };
    }
}
