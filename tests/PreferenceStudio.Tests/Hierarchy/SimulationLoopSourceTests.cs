using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Hierarchy;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;

namespace PreferenceStudio.Tests.Hierarchy;

/// <summary>The simulated loop's label sources on the delivery gridworld (tabular: no PPO, so it runs in seconds).</summary>
public sealed class SimulationLoopSourceTests
{
    private static readonly DeliveryGridworld Env = DeliveryGridworld.Standard;

    private static List<SimulationRound> Run(string source, int seed = 1, FactorHierarchy? hierarchy = null) =>
        SimulationLoop.Run(Env, new SimulationSettings(Rounds: 2, PairsPerRound: 40, SegmentLength: 10, Seed: seed,
            ModelOptions: new RewardModelOptions { Epochs = 20, Device = "cpu" }, Source: source, Hierarchy: hierarchy,
            HierarchyPairsPerRound: 100)).ToList();

    [Fact]
    public void Each_source_counts_its_own_labels_and_the_teacher_answers_the_same_held_out_pairs()
    {
        var ranking = FactorHierarchy.Parse(Env, "goal,sheep,roadblock,mud,gas,coin");
        var clips = Run(LabelSources.Clips);
        var both = Run(LabelSources.Both, hierarchy: ranking);
        var hierarchy = Run(LabelSources.Hierarchy, hierarchy: ranking);

        Assert.All(clips, r => Assert.Equal(0, r.LabelsHierarchy));
        Assert.All(clips, r => Assert.Equal(r.LabelsClip, r.Report.TrainCount));
        Assert.All(hierarchy, r => Assert.Equal(0, r.LabelsClip));
        Assert.All(hierarchy, r => Assert.Equal(r.LabelsHierarchy, r.Report.TrainCount));
        Assert.All(both, r => Assert.Equal(r.LabelsClip + r.LabelsHierarchy, r.Report.TrainCount));
        Assert.True(hierarchy[0].LabelsHierarchy > 0 && hierarchy[1].LabelsHierarchy > hierarchy[0].LabelsHierarchy);
        Assert.True(clips[1].LabelsClip > clips[0].LabelsClip);

        // Round 1 rolls out the same uniform policy in every source: the same clip labels, held-out pairs and hierarchy labels.
        Assert.Equal(clips[0].LabelsClip, both[0].LabelsClip);
        Assert.Equal(both[0].LabelsHierarchy, hierarchy[0].LabelsHierarchy);
        Assert.Equal(clips[0].Report.Heldout.Count, hierarchy[0].Report.Heldout.Count);
        Assert.Equal(clips[0].Report.Heldout.Count, both[0].Report.Heldout.Count);
        // Held-out labels count in "labels" whatever the source; hierarchy-only trains on none of the teacher's answers.
        Assert.Equal(hierarchy[0].Report.Heldout.Count, hierarchy[0].Labels);
        Assert.Equal(clips[0].LabelsClip + clips[0].Report.Heldout.Count, clips[0].Labels);
    }

    [Fact]
    public void A_hierarchy_run_is_deterministic_in_its_seed()
    {
        var a = Run(LabelSources.Hierarchy, seed: 3);
        var b = Run(LabelSources.Hierarchy, seed: 3);
        Assert.Equal(a.Select(r => (r.LabelsHierarchy, r.Labels, r.Report.Heldout.MeanLogLikelihood, r.ScaledReturn)),
            b.Select(r => (r.LabelsHierarchy, r.Labels, r.Report.Heldout.MeanLogLikelihood, r.ScaledReturn)));
    }

    [Fact]
    public void Bad_source_settings_are_refused()
    {
        Assert.Contains("hierarchy", Assert.Throws<ArgumentException>(() => Run("votes")).Message);
        var weightless = new SimulationSettings(Source: LabelSources.Hierarchy, HierarchyWeight: 0);
        Assert.Throws<ArgumentException>(() => SimulationLoop.Run(Env, weightless).First());
    }
}
