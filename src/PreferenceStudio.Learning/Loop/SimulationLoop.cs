using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Hierarchy;
using PreferenceStudio.Environments.Teachers;
using PreferenceStudio.Learning.Policies;
using PreferenceStudio.Learning.Policies.Sac;
using PreferenceStudio.Learning.QuerySelection;
using PreferenceStudio.Learning.Surf;

namespace PreferenceStudio.Learning.Loop;

/// <summary>Settings of a simulated campaign (the simulate verb and the label-count benchmark).</summary>
/// <param name="Model">Reward model type that trains the policy ("bt", "regret", "vpl").</param>
/// <param name="Strategy">Query strategy ("random", "disagreement", "info-gain").</param>
/// <param name="Teacher">B-Pref teacher preset (oracle, mistake, noisy, skip, myopic, equal).</param>
/// <param name="RaterKinds">Simulated raters per rater kind (environments with <see cref="IRaterKinds"/>), e.g. [3, 2];
/// null for one rater answering by the environment's own reward.</param>
/// <param name="PolicySteps">PPO steps per round in continuous environments (training continues across rounds).</param>
/// <param name="SaveModelPath">Where to save each round's reward model (overwritten, so the last round's stays), or null.</param>
/// <param name="Source">Which labels train the reward model: "clips" (the teacher's answers to the round's training
/// pairs), "hierarchy" (pairs of the round's segments labelled by the simulated rater's factor hierarchy, HERON) or
/// "both". The teacher answers the held-out pairs whatever the source, so held-out accuracy stays comparable.</param>
/// <param name="Hierarchy">The simulated rater's factor hierarchy; null for the environment's factors in their own
/// order with the default margin.</param>
/// <param name="HierarchyWeight">Training weight of one hierarchy label against one clip label (1).</param>
/// <param name="HierarchyPairsPerRound">Random pairs of the round's segments the hierarchy is asked to label;
/// undecided pairs are dropped, so fewer labels may come of them.</param>
/// <param name="HierarchySegmentLength">Steps per piece the hierarchy compares: the round's segments are cut into pieces
/// this long first, as HERON compares single steps of its buffer. Whole 50-step Pendulum segments gave rewards PPO could
/// not swing up on (mean true return -1482 after 4 rounds with margins 1, -813 with an angle margin of 0); single steps
/// reached -158 with an angle margin of 0.1 (README, "Measured"). A length at least the segment length compares whole segments.</param>
/// <param name="Learner">Continuous environments: "ppo" (on-policy, continuing across rounds) or "sac" (off-policy; its
/// replay buffer is relabelled with each round's reward model, as PEBBLE does). See <see cref="PolicyLearners"/>.</param>
/// <param name="ExplorationSteps">Continuous environments: steps of unsupervised state-entropy exploration (PEBBLE)
/// before the first round, whose clips then come from the explorer; 0 for none (the first clips are random actions).</param>
/// <param name="Surf">SURF's pseudo-labels and temporal crops around every reward-model training; null for none.</param>
public sealed record SimulationSettings(
    string Model = "bt",
    string Strategy = "random",
    string Teacher = "oracle",
    int Rounds = 3,
    int PairsPerRound = 100,
    int SegmentLength = 10,
    int Seed = 1,
    RewardModelOptions? ModelOptions = null,
    int[]? RaterKinds = null,
    long PolicySteps = 50_000,
    string? WorkFolder = null,
    string? SaveModelPath = null,
    string Source = LabelSources.Clips,
    FactorHierarchy? Hierarchy = null,
    double HierarchyWeight = 1.0,
    int HierarchyPairsPerRound = 500,
    int HierarchySegmentLength = HierarchyLabeler.DefaultPieceLength,
    string Learner = PolicyLearners.Ppo,
    long ExplorationSteps = 0,
    SurfOptions? Surf = null)
{
    public bool UsesClips => LabelSources.UsesClips(Source);

    public bool UsesHierarchy => LabelSources.UsesHierarchy(Source);
}

/// <summary>What one simulated round produced.</summary>
/// <param name="Labels">Teacher labels so far (clip training labels and held-out labels).</param>
/// <param name="LabelsRound">Teacher labels of this round (clip training and held out).</param>
/// <param name="ScaledReturn">Tabular environments: scaled return of the greedy policy on the learned reward.</param>
/// <param name="MeanReturn">Continuous environments: mean true return of the PPO policy over 10 episodes.</param>
/// <param name="LabelsClip">Training labels so far from the teacher's clip choices.</param>
/// <param name="LabelsHierarchy">Training labels so far from the simulated rater's factor hierarchy.</param>
/// <param name="GoalSegments">Tasks with a goal: how many of the round's segments reach it (what raters could see of
/// the goal); null elsewhere.</param>
public sealed record SimulationRound(
    int Round,
    int Labels,
    int LabelsRound,
    ModelReport Report,
    double? ScaledReturn,
    double? MeanReturn,
    double? SuccessRate,
    long PolicySteps,
    int LabelsClip,
    int LabelsHierarchy,
    int? GoalSegments = null);

/// <summary>
/// The studio's preference loop with simulated raters: each round rolls out the current policy, picks pairs
/// (<see cref="RoundPlanner"/> with the chosen query selector), has simulated teachers answer them, trains the reward
/// model on every label so far, measures it (<see cref="ModelEvaluation"/>), and trains the next policy: value iteration
/// in tabular environments, PPO on the learned reward in continuous ones. With a hierarchy source, the simulated
/// rater's factor hierarchy also labels random pairs of the round's training segments (<see cref="HierarchyLabeler"/>).
/// Runs on the torch thread.
/// </summary>
public static class SimulationLoop
{
    public static IEnumerable<SimulationRound> Run(IPreferenceEnvironment env, SimulationSettings s, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(env);
        var kinds = s.RaterKinds;
        if (kinds is not null && env is not IRaterKinds rk)
            throw new ArgumentException($"{env.Name} has no rater kinds; simulate one rater instead.");
        if (kinds is not null && kinds.Length > ((IRaterKinds)env).RaterKinds.Count)
            throw new ArgumentException($"{env.Name} has {((IRaterKinds)env).RaterKinds.Count} rater kinds; got counts for {kinds.Length}.");
        var raters = kinds is null
            ? [(Id: (string?)null, Kind: (int?)null)]
            : kinds.SelectMany((count, kind) => Enumerable.Range(0, count).Select(i => (Id: (string?)$"kind{kind}-rater{i + 1}", Kind: (int?)kind))).ToList();
        if (raters.Count == 0) throw new ArgumentException("At least one simulated rater is needed.");
        var hierarchy = CheckHierarchy(env, s);
        CheckLearner(env, s);
        var rng = new Random(s.Seed);
        // Its own random stream, so hierarchy labels leave the rollouts, pairs and teacher answers of a seed unchanged.
        var hierarchyRng = new Random(unchecked(s.Seed * 7919 + 104_729));
        int clipLabels = 0, hierarchyLabels = 0;
        var selector = QuerySelectors.Create(s.Strategy);
        var train = new List<PreferencePair>();
        var test = new List<PreferencePair>();
        Func<double[], double[]>? policy = null;
        GaussianPolicy? ppoPolicy = null;
        IRewardModel? model = null;
        SimulatedTeacher? teacher = null;
        string work = s.WorkFolder ?? Path.Combine(Path.GetTempPath(), $"studio-simulate-{Environment.ProcessId}-{s.Seed}");
        long policySteps = 0, ppoSteps = 0;
        SacAgent? sac = null;
        var seen = new List<Segment>();
        try
        {
            if (s.ExplorationSteps > 0)
            {
                // PEBBLE: before any label the agent learns to spread over the state space; the first clips show where it went.
                sac = new SacAgent(env, SacPresets.For(env.Name) with { Seed = s.Seed });
                sac.Explore(s.ExplorationSteps, null, ct);
                policySteps = s.ExplorationSteps;
                var explorer = sac;
                policy = st => explorer.Act(st, deterministic: false);
            }
            for (int round = 0; round < s.Rounds; round++)
            {
                ct.ThrowIfCancellationRequested();
                var plan = RoundPlanner.Plan(env, policy, new RoundPlanSettings(s.SegmentLength, s.PairsPerRound), rng, selector, new QueryContext(env, model));
                // Thresholds scale with the returns of the first round's segments, as B-Pref scales them with its data.
                teacher ??= SimulatedTeacher.Create(s.Teacher, SimulatedTeacher.EstimateReturnScale(env, plan.Segments.Select(p => p.Segment)), s.Seed);
                int answered = 0;
                for (int i = 0; i < plan.Pairs.Count; i++)
                {
                    var pair = plan.Pairs[i];
                    var (rater, kind) = raters[(round * plan.Pairs.Count + i) % raters.Count];
                    var left = plan.Segments[pair.Left].Segment;
                    var right = plan.Segments[pair.Right].Segment;
                    // Asked even when clips do not train, so a noisy teacher's held-out answers are the same in every source.
                    var label = teacher.Answer(SimulatedTeacher.StepRewards(env, left, kind), SimulatedTeacher.StepRewards(env, right, kind));
                    if (label is null || (!pair.HeldOut && !s.UsesClips)) continue;
                    (pair.HeldOut ? test : train).Add(new PreferencePair(left, right, label.Value, rater));
                    if (!pair.HeldOut) clipLabels++;
                    answered++;
                }
                if (hierarchy is not null) hierarchyLabels += AddHierarchyLabels(env, plan, hierarchy, s, raters.Select(r => r.Id).ToList(), hierarchyRng, train);
                seen.AddRange(plan.Segments.Select(p => p.Segment));

                var options = (s.ModelOptions ?? new RewardModelOptions { Epochs = 200 }) with { Seed = s.Seed * 1000 + round };
                model?.Dispose();
                model = null;
                var trainer = RewardModels.Trainer(s.Model);
                SurfTrainer? surf = s.Surf is null ? null : new SurfTrainer(trainer, seen, s.Surf, s.Seed * 1000 + round);
                model = (surf ?? trainer).Train(env, train, options, null, ct);
                var report = ModelEvaluation.Evaluate(env, model, s.Model, train, test, s.Seed * 1000 + round);
                if (surf is not null) report = report with { Metrics = report.Metrics with { SurfPseudoLabels = surf.PseudoLabels, SurfCrops = surf.Crops } };
                if (s.SaveModelPath is not null) model.Save(s.SaveModelPath);
                double? scaled = report.Evaluation?.ScaledReturn, meanReturn = null, success = null;
                if (report.Policy is { } table && env is ITabularEnvironment tabular)
                    policy = st => [table[tabular.StateIndex(st)]];
                else if (model is Regret.RegretRewardModel { Form: Regret.RegretForm.Advantage } advantage)
                {
                    // A learned optimal advantage acts greedily as the policy (Knox et al. 2023), no PPO on top.
                    var evaluation = PolicyEvaluation.Evaluate(env, st => advantage.GreedyAction(st), 10);
                    meanReturn = evaluation.MeanReturn;
                    success = evaluation.SuccessRate;
                    policy = st => advantage.GreedyAction(st);
                }
                else if (!env.ActionSpace.IsDiscrete && s.Learner == PolicyLearners.Sac)
                {
                    // The same agent all campaign: its buffer (exploration included) is relabelled with the new reward.
                    sac ??= new SacAgent(env, SacPresets.For(env.Name) with { Seed = s.Seed });
                    sac.UseReward(model);
                    sac.Train(s.PolicySteps, null, ct);
                    policySteps += s.PolicySteps;
                    var evaluation = PolicyEvaluation.Evaluate(env, st => sac.Act(st, deterministic: true), 10);
                    meanReturn = evaluation.MeanReturn;
                    success = evaluation.SuccessRate;
                    var current = sac;
                    // Clips come from the stochastic policy, as SAC's own experience does.
                    policy = st => current.Act(st, deterministic: false);
                }
                else if (!env.ActionSpace.IsDiscrete)
                {
                    // PPO continues from the previous round's policy on the new reward: the step budget is cumulative.
                    Directory.CreateDirectory(work);
                    var checkpoint = Path.Combine(work, "policy.partial");
                    policySteps += s.PolicySteps;
                    // PPO's own steps: exploration, if any, was the explorer's, not this policy's.
                    ppoSteps += s.PolicySteps;
                    var ppo = PpoPresets.For(env.Name) with { TotalSteps = ppoSteps, Seed = s.Seed, CheckpointPath = checkpoint };
                    var result = new PpoTrainer().Train(env, new LearnedRewardSource(model), ppo, null, null, ct, resumeFrom: checkpoint);
                    ppoPolicy?.Dispose();
                    ppoPolicy = result.Policy;
                    var evaluation = PolicyEvaluation.Evaluate(env, ppoPolicy, 10);
                    meanReturn = evaluation.MeanReturn;
                    success = evaluation.SuccessRate;
                    var current = ppoPolicy;
                    policy = st => current.Act(st, deterministic: true);
                }
                yield return new SimulationRound(round + 1, clipLabels + test.Count, answered, report, scaled, meanReturn, success, policySteps,
                    clipLabels, hierarchyLabels, GoalSegments(env, plan));
            }
        }
        finally
        {
            model?.Dispose();
            ppoPolicy?.Dispose();
            sac?.Dispose();
            if (s.WorkFolder is null && Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    private static int? GoalSegments(IPreferenceEnvironment env, PlannedRound plan) =>
        env is Environments.Control.IGoalEnvironment goal ? plan.Segments.Count(p => goal.ReachedGoal(p.Segment)) : null;

    private static void CheckLearner(IPreferenceEnvironment env, SimulationSettings s)
    {
        if (!PolicyLearners.All.Contains(s.Learner))
            throw new ArgumentException($"Unknown policy learner '{s.Learner}'. Known learners: {string.Join(", ", PolicyLearners.All)}.");
        ArgumentOutOfRangeException.ThrowIfNegative(s.ExplorationSteps);
        if ((s.ExplorationSteps > 0 || s.Learner == PolicyLearners.Sac) && env.ActionSpace.IsDiscrete)
            throw new ArgumentException($"{env.Name} has discrete actions: exploration and SAC are for continuous-action environments.");
        s.Surf?.Validated();
    }

    private static FactorHierarchy? CheckHierarchy(IPreferenceEnvironment env, SimulationSettings s)
    {
        if (!LabelSources.All.Contains(s.Source))
            throw new ArgumentException($"Unknown label source '{s.Source}'. Known sources: {string.Join(", ", LabelSources.All)}.");
        if (!s.UsesHierarchy) return null;
        if (!double.IsFinite(s.HierarchyWeight) || s.HierarchyWeight <= 0)
            throw new ArgumentException($"The hierarchy weight must be a positive number, got {s.HierarchyWeight}.");
        ArgumentOutOfRangeException.ThrowIfNegative(s.HierarchyPairsPerRound);
        if (s.HierarchySegmentLength < 1) throw new ArgumentException($"Hierarchy pieces need at least one step, got {s.HierarchySegmentLength}.");
        var hierarchy = s.Hierarchy ?? FactorHierarchy.Default(env);
        // A hierarchy built for another environment would index the wrong factors.
        bool fits = hierarchy.Indices.Count == env.Factors.Count
            && hierarchy.Indices.Select((f, level) => f < env.Factors.Count && env.Factors[f].Name == hierarchy.Factors[level]).All(ok => ok);
        if (!fits)
            throw new ArgumentException($"The hierarchy {hierarchy} does not rank the factors of {env.Name} ({string.Join(", ", env.Factors.Select(f => f.Name))}).");
        return hierarchy;
    }

    /// <summary>
    /// Labels random pairs of the round's training segments with the hierarchy and adds them to the training pairs.
    /// Segments of held-out pairs are left out, so the held-out measure stays about segments the model was not trained on.
    /// </summary>
    private static int AddHierarchyLabels(IPreferenceEnvironment env, PlannedRound plan, FactorHierarchy hierarchy, SimulationSettings s,
        IReadOnlyList<string?> raters, Random rng, List<PreferencePair> train)
    {
        var heldOut = plan.Pairs.Where(p => p.HeldOut).SelectMany(p => new[] { p.Left, p.Right }).ToHashSet();
        var pool = plan.Segments.Where((_, i) => !heldOut.Contains(i)).Select(p => p.Segment).ToList();
        pool = HierarchyLabeler.Pieces(env, pool, s.HierarchySegmentLength);
        var labels = HierarchyLabeler.Label(env, pool, hierarchy, s.HierarchyPairsPerRound, rng);
        for (int k = 0; k < labels.Count; k++)
            train.Add(new PreferencePair(pool[labels[k].Left], pool[labels[k].Right], labels[k].Choice, raters[k % raters.Count], s.HierarchyWeight));
        return labels.Count;
    }
}
