using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning;

namespace PreferenceStudio.Tests.Learning;

/// <summary>Random-rollout delivery segments paired at random and labelled by comparing their true returns.</summary>
internal static class OraclePairs
{
    public static List<PreferencePair> Make(int count, int seed, int length = 3)
    {
        var env = DeliveryGridworld.Standard;
        IPreferenceEnvironment penv = env;
        var rng = new Random(seed);
        var segments = new List<Segment>();
        while (segments.Count < 2 * count)
            foreach (var t in Rollouts.CollectRandom(env, 1, rng))
                segments.AddRange(SegmentCutter.Cut(env, t, length));
        rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(segments));
        var pairs = new List<PreferencePair>(count);
        for (int i = 0; i < count; i++)
        {
            var (left, right) = (segments[2 * i], segments[2 * i + 1]);
            double d = penv.TrueReturn(right) - penv.TrueReturn(left);
            pairs.Add(new PreferencePair(left, right, d > 0 ? PreferenceChoice.Right : d < 0 ? PreferenceChoice.Left : PreferenceChoice.Equal));
        }
        return pairs;
    }
}
