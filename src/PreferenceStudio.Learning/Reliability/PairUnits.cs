using PreferenceStudio.Environments;

namespace PreferenceStudio.Learning.Reliability;

/// <summary>
/// Which labels are answers to the same pair (one "unit" in the crowd-sourcing sense): the same
/// <see cref="PreferencePair.PairKey"/>, or, without one, the same two segments shown on the same sides.
/// </summary>
public static class PairUnits
{
    public static string KeyOf(PreferencePair pair) => pair.PairKey ?? $"{SegmentHash(pair.Left):x16}:{SegmentHash(pair.Right):x16}";

    /// <summary>Label indices grouped by unit, in first-seen order.</summary>
    public static List<List<int>> Group(IReadOnlyList<PreferencePair> pairs)
    {
        var units = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var order = new List<List<int>>();
        for (int i = 0; i < pairs.Count; i++)
        {
            var key = KeyOf(pairs[i]);
            if (!units.TryGetValue(key, out var list))
            {
                units[key] = list = [];
                order.Add(list);
            }
            list.Add(i);
        }
        return order;
    }

    // FNV-1a over the bits of every state and action value, with the lengths mixed in: equal segments hash equal, and
    // the studio's segments (a few hundred values) collide with negligible probability.
    private static ulong SegmentHash(Segment segment)
    {
        ulong h = 14695981039346656037UL;
        void Mix(ulong v)
        {
            for (int b = 0; b < 8; b++)
            {
                h ^= (v >> (8 * b)) & 0xff;
                h *= 1099511628211UL;
            }
        }
        Mix((ulong)segment.States.Length);
        foreach (var s in segment.States)
        {
            Mix((ulong)s.Length);
            foreach (var v in s) Mix((ulong)BitConverter.DoubleToInt64Bits(v));
        }
        Mix((ulong)segment.Actions.Length);
        foreach (var a in segment.Actions)
        {
            Mix((ulong)a.Length);
            foreach (var v in a) Mix((ulong)BitConverter.DoubleToInt64Bits(v));
        }
        return h;
    }
}
