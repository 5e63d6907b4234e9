using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Teachers;
using PreferenceStudio.Learning.Policies;
using PreferenceStudio.Learning.QuerySelection;

namespace PreferenceStudio.Learning.Loop;

/// <summary>Settings of a simulated campaign (the simulate verb and the label-count benchmark).</summary>
/// <param name="Model">Reward model type that trains the policy ("bt", "regret", "vpl").</param>
/// <param name="Strategy">Query strategy ("random", "disagreement", "info-gain").</param>
/// <param name="Teacher">B-Pref teacher preset (oracle, mistake, noisy, skip, myopic, equal).</param>
/// <param name="RaterKinds">Simulated raters per rater kind (environments with <see cref="IRaterKinds"/>), e.g. [3, 2];
/// null for one rater answering by the environment's own reward.</param>
/// <param name="PolicySteps">PPO steps per round in continuous environments (training continues across rounds).</param>
/// <param name="SaveModelPath">Where to save each round's reward model (overwritten, so the last round's stays), or null.</param>
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
    string? SaveModelPath = null);

/// <summary>What one simulated round produced.</summary>
/// <param name="Labels">Labels so far (training and held out).</param>
/// <param name="ScaledReturn">Tabular environments: scaled return of the greedy policy on the learned reward.</param>
/// <param name="MeanReturn">Continuous environments: mean true return of the PPO policy over 10 episodes.</param>
public sealed record SimulationRound(
    int Round,
    int Labels,
    int LabelsRound,
    ModelReport Report,
    double? ScaledReturn,
    double? MeanReturn,
    double? SuccessRate,
    long PolicySteps);

/// <summary>
/// The studio's preference loop with simulated raters: each round rolls out the current policy, picks pairs
/// (<see cref="RoundPlanner"/> with the chosen query selector), has simulated teachers answer them, trains the reward
/// model on every label so far, measures it (<see cref="ModelEvaluation"/>), and trains the next policy: value iteration
/// in tabular environments, PPO on the learned reward in continuous ones. Runs on the torch thread.
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
        var rng = new Random(s.Seed);
        var selector = QuerySelectors.Create(s.Strategy);
        var train = new List<PreferencePair>();
        var test = new List<PreferencePair>();
        Func<double[], double[]>? policy = null;
        GaussianPolicy? ppoPolicy = null;
        IRewardModel? model = null;
        SimulatedTeacher? teacher = null;
        string work = s.WorkFolder ?? Path.Combine(Path.GetTempPath(), $"studio-simulate-{Environment.ProcessId}-{s.Seed}");
        long policySteps = 0;
        try
        {
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
                    var label = teacher.Answer(SimulatedTeacher.StepRewards(env, left, kind), SimulatedTeacher.StepRewards(env, right, kind));
                    if (label is null) continue;
                    (pair.HeldOut ? test : train).Add(new PreferencePair(left, right, label.Value, rater));
                    answered++;
                }

                var options = (s.ModelOptions ?? new RewardModelOptions { Epochs = 200 }) with { Seed = s.Seed * 1000 + round };
                model?.Dispose();
                model = null;
                model = RewardModels.Trainer(s.Model).Train(env, train, options, null, ct);
                var report = ModelEvaluation.Evaluate(env, model, train, test, s.Seed * 1000 + round);
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
                else if (!env.ActionSpace.IsDiscrete)
                {
                    // PPO continues from the previous round's policy on the new reward: the step budget is cumulative.
                    Directory.CreateDirectory(work);
                    var checkpoint = Path.Combine(work, "policy.partial");
                    policySteps += s.PolicySteps;
                    var ppo = PpoPresets.For(env.Name) with { TotalSteps = policySteps, Seed = s.Seed, CheckpointPath = checkpoint };
                    var result = new PpoTrainer().Train(env, new LearnedRewardSource(model), ppo, null, null, ct, resumeFrom: checkpoint);
                    ppoPolicy?.Dispose();
                    ppoPolicy = result.Policy;
                    var evaluation = PolicyEvaluation.Evaluate(env, ppoPolicy, 10);
                    meanReturn = evaluation.MeanReturn;
                    success = evaluation.SuccessRate;
                    var current = ppoPolicy;
                    policy = st => current.Act(st, deterministic: true);
                }
                yield return new SimulationRound(round + 1, train.Count + test.Count, answered, report, scaled, meanReturn, success, policySteps);
            }
        }
        finally
        {
            model?.Dispose();
            ppoPolicy?.Dispose();
            if (s.WorkFolder is null && Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }
}
