using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Policies;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio train-policy</c>: trains a policy headless (PPO, or SAC with optional state-entropy exploration first) on the
/// true reward or a learned reward model, then evaluates it (deterministic actions, true reward). Progress goes to
/// stderr; the last stdout line is one JSON object.
/// </summary>
public static class TrainPolicyCommand
{
    /// <summary>The verb's options, made anew for each command tree.</summary>
    private sealed class Options
    {
        public readonly Option<string> Env = CliOptions.Environment("a continuous-action environment");
        public readonly Option<string> Reward = CliOptions.Required<string>("--reward",
            "true (the environment's own reward) or a reward-model checkpoint written by `studio train`", "true|FILE");
        public readonly Option<long> Steps = CliOptions.Required<long>("--steps", "environment steps to train for", "N");
        public readonly Option<int> Seed = CliOptions.With("--seed", 1, "seed of environments and policy");
        public readonly Option<int> Threads = CliOptions.With("--threads", 1, "libtorch intra-op threads (0: libtorch's default)");
        public readonly Option<string?> Save = CliOptions.Optional<string>("--save", "write the trained policy here", "PATH");
        public readonly Option<int> EvalEpisodes = CliOptions.With("--eval-episodes", 10, "episodes of the final evaluation (deterministic actions, true reward)");
        public readonly Option<string?> Checkpoint = CliOptions.Optional<string>("--checkpoint", "save training state here every --checkpoint-every iterations", "PATH");
        public readonly Option<int> CheckpointEvery = CliOptions.With("--checkpoint-every", 10, "iterations between checkpoints");
        public readonly Option<bool> Resume = CliOptions.Flag("--resume", "continue from --checkpoint when it exists (its steps count towards --steps)");
        public readonly Option<string?> Rater = CliOptions.Optional<string>("--rater", "a rater of a per-rater reward model: the policy is conditioned on that rater's latent", "NAME");
        public readonly Option<string[]> Param = Repeated("--param", "PPO settings, repeatable or comma-separated: " + PpoParameters.Names);
        public readonly Option<string[]> EnvParam = Repeated("--env-param", "environment parameters, repeatable or comma-separated, e.g. gravity=10");
        public readonly Option<string> Learner = CliOptions.Choice("--learner", PolicyLearners.Ppo, PolicyLearners.All,
            "ppo, or sac (the task's SAC preset; --param, --checkpoint and --resume are PPO's)");
        public readonly Option<long> ExploreSteps = CliOptions.With("--explore-steps", 0L, "sac: steps of state-entropy exploration (PEBBLE) before training on the reward; they do not count towards --steps");

        private static Option<string[]> Repeated(string name, string description) => new(name)
        {
            Description = description,
            HelpName = "k=v",
            Arity = ArgumentArity.ZeroOrMore,
            DefaultValueFactory = _ => [],
        };
    }

    public static Command Create()
    {
        var o = new Options();
        return new Command("train-policy", "train a policy headless (PPO or SAC) on the true reward or a learned one, then evaluate it on the true reward")
        {
            o.Env, o.Reward, o.Steps, o.Seed, o.Threads, o.Save, o.EvalEpisodes, o.Checkpoint, o.CheckpointEvery, o.Resume, o.Rater, o.Param, o.EnvParam,
            o.Learner, o.ExploreSteps,
        }.WithAction((parse, ct) => RunAsync(Settings.From(parse, o), parse.InvocationConfiguration.Output));
    }

    /// <summary>Runs the verb. Exit codes: 0 success, 1 training failed (bad arguments are refused before, with 2).</summary>
    private static async Task<int> RunAsync(Settings settings, TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        using var worker = new TorchTrainingThread(new TorchOptions { Device = "cpu", Threads = settings.Threads });
        try
        {
            await worker.Device.ConfigureAwait(false);
            var outcome = await worker.RunAsync(() => TrainAndEvaluate(settings)).ConfigureAwait(false);
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds;
            output.WriteLine(ResultJson(settings, outcome, clock.Elapsed.TotalSeconds, cpu));
            return 0;
        }
        catch (Exception e) when (e is PolicyTrainingException or RewardTrainingException or ArgumentException or IOException
                                      or InvalidOperationException or TypeInitializationException or DllNotFoundException)
        {
            Console.Error.WriteLine($"error: policy training failed: {e.Message}");
            return 1;
        }
    }

    private static Outcome TrainAndEvaluate(Settings s)
    {
        IRewardModel? model = null;
        try
        {
            IStepRewardSource reward = TrueRewardSource.Instance;
            double[]? latent = null;
            if (s.RewardPath is not null)
            {
                model = RewardModels.Load(s.RewardPath, s.Environment, "cpu");
                if (s.Rater is not null)
                {
                    if (model is not IPerRaterRewardModel perRater)
                        throw new ArgumentException($"--rater needs a per-rater reward model; {s.RewardPath} holds a '{model.ModelType}' model.");
                    latent = perRater.Latent(s.Rater).Mean;
                    reward = new LearnedRewardSource(perRater.ForRater(s.Rater), $"{model.ModelType}:{s.Rater}");
                }
                else
                {
                    reward = new LearnedRewardSource(model, $"{model.ModelType}:{Path.GetFileName(s.RewardPath)}");
                }
            }
            if (s.Learner == PolicyLearners.Sac) return TrainSac(s, reward);
            Console.Error.WriteLine($"PPO on {s.Environment.Name}, reward {reward.Name}, {s.Ppo.TotalSteps} steps, " +
                                    $"rollout {s.Ppo.Envs} x {s.Ppo.StepsPerEnv}, seed {s.Ppo.Seed}.");
            var result = new PpoTrainer().Train(s.Environment, reward, s.Ppo, latent, new StderrProgress(),
                resumeFrom: s.Resume ? s.Ppo.CheckpointPath : null);
            using var policy = result.Policy;
            if (s.SavePath is not null) policy.Save(s.SavePath);
            var evaluation = PolicyEvaluation.Evaluate(s.Environment, policy, s.EvalEpisodes, seed: s.Ppo.Seed + 1_000_003);
            Console.Error.WriteLine($"evaluation over {evaluation.Episodes} episodes: mean return {evaluation.MeanReturn:F2} " +
                                    $"(std {evaluation.StdReturn:F2})" + (evaluation.SuccessRate is { } sr ? $", success {sr:P0}" : ""));
            return new Outcome(result.Steps, result.StartSteps, result.Iterations, result.Last?.MeanEpisodeReturn, evaluation, reward.Name, policy.ActionStd().Average());
        }
        finally
        {
            model?.Dispose();
        }
    }

    /// <summary>SAC as campaigns run it: the task's preset, exploration first if asked, then the reward for --steps steps.</summary>
    private static Outcome TrainSac(Settings s, IStepRewardSource reward)
    {
        using var agent = new Learning.Policies.Sac.SacAgent(s.Environment, s.Sac);
        var progress = new SacStderrProgress();
        if (s.ExploreSteps > 0)
        {
            Console.Error.WriteLine($"SAC exploration on {s.Environment.Name}: {s.ExploreSteps} steps of state entropy.");
            agent.Explore(s.ExploreSteps, progress);
        }
        Console.Error.WriteLine($"SAC on {s.Environment.Name}, reward {reward.Name}, {s.Steps} steps, seed {s.Sac.Seed}.");
        agent.UseReward(reward is LearnedRewardSource learned ? learned.Model : null);
        agent.Train(s.Steps, progress);
        if (s.SavePath is not null) agent.Save(s.SavePath);
        int goals = Enumerable.Range(0, agent.Buffer.Count).Count(agent.Buffer.Terminal);
        var evaluation = PolicyEvaluation.Evaluate(s.Environment, st => agent.Act(st, deterministic: true), s.EvalEpisodes, seed: s.Sac.Seed + 1_000_003);
        Console.Error.WriteLine($"evaluation over {evaluation.Episodes} episodes: mean return {evaluation.MeanReturn:F2} " +
                                $"(std {evaluation.StdReturn:F2})" + (evaluation.SuccessRate is { } sr ? $", success {sr:P0}" : "") +
                                $"; terminal transitions in the buffer: {goals}");
        return new Outcome(agent.Steps, 0, 0, agent.RecentReturn, evaluation, reward.Name, double.NaN) { TerminalTransitions = goals };
    }

    private static string ResultJson(Settings s, Outcome o, double seconds, double cpuSeconds)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("algorithm", s.Learner == PolicyLearners.Sac ? Learning.Policies.Sac.SacAgent.AlgorithmName : GaussianPolicy.AlgorithmName);
            w.WriteString("env", s.Environment.Name);
            w.WriteString("reward", o.Reward);
            w.WriteNumber("steps", o.Steps);
            w.WriteNumber("start_steps", o.StartSteps);
            if (s.Learner == PolicyLearners.Sac)
            {
                w.WriteNumber("explore_steps", s.ExploreSteps);
                w.WriteNumber("terminal_transitions", o.TerminalTransitions);
            }
            else w.WriteNumber("iterations", o.Iterations);
            w.WriteNumber("eval_episodes", o.Evaluation.Episodes);
            Number(w, "mean_return", o.Evaluation.MeanReturn);
            Number(w, "std_return", o.Evaluation.StdReturn);
            Number(w, "mean_episode_length", o.Evaluation.MeanLength);
            if (o.Evaluation.SuccessRate is { } success) Number(w, "success_rate", success);
            else w.WriteNull("success_rate");
            Number(w, "train_mean_return", o.TrainReturn ?? double.NaN);
            Number(w, "action_std", o.ActionStd);
            w.WriteNumber("seed", s.Ppo.Seed);
            w.WriteNumber("threads", s.Threads);
            Number(w, "seconds", seconds);
            Number(w, "cpu_seconds", cpuSeconds);
            if (s.Learner == PolicyLearners.Sac)
            {
                w.WritePropertyName("sac");
                JsonSerializer.Serialize(w, new { gamma = s.Sac.Gamma, n_steps = s.Sac.NSteps, batch = s.Sac.BatchSize, hidden = string.Join("x", s.Sac.HiddenSizes), tau = s.Sac.Tau });
            }
            else
            {
                w.WritePropertyName("ppo");
                PpoParameters.Write(w, s.Ppo);
            }
            if (s.SavePath is not null) w.WriteString("policy", Path.GetFullPath(s.SavePath));
            if (s.Ppo.CheckpointPath is not null) w.WriteString("checkpoint", Path.GetFullPath(s.Ppo.CheckpointPath));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, Math.Round(value, 6));
        else w.WriteNull(name);
    }

    private sealed record Outcome(long Steps, long StartSteps, int Iterations, double? TrainReturn,
        PolicyEvaluationResult Evaluation, string Reward, double ActionStd)
    {
        /// <summary>SAC: transitions in its replay buffer that ended an episode at a terminal state (mountain car: flag visits).</summary>
        public int TerminalTransitions { get; init; }
    }

    private sealed class SacStderrProgress : IProgress<Learning.Policies.Sac.SacProgress>
    {
        private long _next;

        public void Report(Learning.Policies.Sac.SacProgress p)
        {
            if (p.Steps < _next && p.Steps < p.TotalSteps) return;
            _next = p.Steps + 5_000;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"steps {p.Steps}/{p.TotalSteps}  return {p.MeanEpisodeReturn:F1}  critic {p.CriticLoss:F4}  alpha {p.Alpha:F4}  {p.Elapsed.TotalSeconds:F0}s"));
        }
    }

    /// <summary>Prints straight from the torch thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class StderrProgress : IProgress<PolicyTrainingProgress>
    {
        public void Report(PolicyTrainingProgress p) =>
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"iter {p.Iteration}  steps {p.Steps}/{p.TotalSteps}  return {p.MeanEpisodeReturn:F1}  pg {p.PolicyLoss:F4}  " +
                $"vf {p.ValueLoss:F4}  kl {p.ApproxKl:F4}  clip {p.ClipFraction:F2}  std {p.ActionStd:F3}  {p.Elapsed.TotalSeconds:F0}s"));
    }

    private sealed record Settings(
        IPreferenceEnvironment Environment, string? RewardPath, string? Rater, int Threads, string? SavePath, int EvalEpisodes,
        bool Resume, PpoOptions Ppo)
    {
        public string Learner { get; init; } = PolicyLearners.Ppo;
        public long Steps => Ppo.TotalSteps;
        public long ExploreSteps { get; init; }
        public Learning.Policies.Sac.SacOptions Sac { get; init; } = new();

        public static Settings From(ParseResult p, Options o)
        {
            var env = EnvironmentRegistry.Create(p.GetRequiredValue(o.Env), ParseEnvParameters(Pairs(p.GetRequiredValue(o.EnvParam))));
            if (env.ActionSpace.IsDiscrete)
                throw new CliUsageException($"{env.Name} has discrete actions; train-policy trains PPO policies for continuous-action environments.");
            string reward = p.GetRequiredValue(o.Reward);
            string? rewardPath = reward == "true" ? null : reward;
            if (rewardPath is not null && !File.Exists(rewardPath))
                throw new CliUsageException($"--reward is 'true' or a reward-model file; {rewardPath} does not exist.");
            long steps = p.GetValue(o.Steps);
            if (steps <= 0) throw new CliUsageException("--steps must be a positive whole number of environment steps.");
            int threads = p.GetValue(o.Threads);
            if (threads < 0) throw new CliUsageException("--threads must be 0 (libtorch default) or more.");
            int episodes = p.GetValue(o.EvalEpisodes);
            if (episodes < 1) throw new CliUsageException("--eval-episodes must be at least 1.");
            // The environment's preset (PpoPresets) first, then --param overrides.
            var options = PpoParameters.Apply(PpoPresets.For(env.Name) with
            {
                TotalSteps = steps,
                Seed = p.GetValue(o.Seed),
                CheckpointPath = p.GetValue(o.Checkpoint),
                CheckpointEvery = p.GetValue(o.CheckpointEvery),
            }, Pairs(p.GetRequiredValue(o.Param)));
            bool resume = p.GetValue(o.Resume);
            if (resume && options.CheckpointPath is null) throw new CliUsageException("--resume needs --checkpoint PATH.");
            var rater = p.GetValue(o.Rater);
            if (rater is not null && rewardPath is null) throw new CliUsageException("--rater needs --reward FILE (a per-rater reward model).");
            options.Validate();
            string learner = p.GetRequiredValue(o.Learner);
            long explore = p.GetValue(o.ExploreSteps);
            if (explore < 0) throw new CliUsageException("--explore-steps cannot be negative.");
            if (learner == PolicyLearners.Sac)
            {
                if (p.GetRequiredValue(o.Param).Length > 0 || options.CheckpointPath is not null || resume)
                    throw new CliUsageException("--param, --checkpoint and --resume are PPO settings; SAC runs with the task's preset (SacPresets).");
            }
            else if (explore > 0) throw new CliUsageException("--explore-steps needs --learner sac (exploration trains a SAC agent).");
            return new Settings(env, rewardPath, rater, threads, p.GetValue(o.Save), episodes, resume, options)
            {
                Learner = learner,
                ExploreSteps = explore,
                Sac = SacPresets.For(env.Name) with { Seed = options.Seed },
            };
        }

        /// <summary>Repeated values, each possibly comma-separated, as one list of name=value pairs.</summary>
        private static List<string> Pairs(string[] values) =>
            values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

        private static Dictionary<string, double>? ParseEnvParameters(List<string> pairs)
        {
            if (pairs.Count == 0) return null;
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var pair in pairs)
            {
                var (key, text) = PpoParameters.Split(pair, "--env-param");
                values[key] = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                    ? v
                    : throw new CliUsageException($"--env-param {key} must be a number, got '{text}'.");
            }
            return values;
        }
    }
}

/// <summary>The PPO settings --param can set, by the names SB3 and CleanRL use.</summary>
internal static class PpoParameters
{
    public const string Names =
        "envs, n_steps, epochs, batch, lr, anneal_lr, gamma, lambda, clip, ent_coef, vf_coef, max_grad_norm, log_std, hidden (64x64), " +
        "target_kl, norm_obs, norm_reward, sde (gSDE exploration), sde_freq";

    public static PpoOptions Apply(PpoOptions o, IEnumerable<string> pairs)
    {
        foreach (var pair in pairs)
        {
            var (key, v) = Split(pair, "--param");
            o = key switch
            {
                "envs" => o with { Envs = Int(key, v) },
                "n_steps" => o with { StepsPerEnv = Int(key, v) },
                "epochs" => o with { Epochs = Int(key, v) },
                "batch" => o with { MinibatchSize = Int(key, v) },
                "lr" => o with { LearningRate = Double(key, v) },
                "anneal_lr" => o with { AnnealLearningRate = Bool(key, v) },
                "gamma" => o with { Gamma = Double(key, v) },
                "lambda" => o with { Lambda = Double(key, v) },
                "clip" => o with { ClipRange = Double(key, v) },
                "ent_coef" => o with { EntropyCoefficient = Double(key, v) },
                "vf_coef" => o with { ValueCoefficient = Double(key, v) },
                "max_grad_norm" => o with { MaxGradNorm = Double(key, v) },
                "log_std" => o with { InitialLogStd = Double(key, v) },
                "hidden" => o with { HiddenSizes = v.Split('x').Select(h => Int(key, h)).ToArray() },
                "target_kl" => o with { TargetKl = Double(key, v) },
                "norm_obs" => o with { NormalizeObservations = Bool(key, v) },
                "norm_reward" => o with { NormalizeRewards = Bool(key, v) },
                "sde" => o with { StateDependentExploration = Bool(key, v) },
                "sde_freq" => o with { SdeSampleFrequency = Int(key, v) },
                _ => throw new CliUsageException($"Unknown --param '{key}'. Known: {Names}."),
            };
        }
        return o;
    }

    public static void Write(Utf8JsonWriter w, PpoOptions o)
    {
        w.WriteStartObject();
        w.WriteNumber("envs", o.Envs);
        w.WriteNumber("n_steps", o.StepsPerEnv);
        w.WriteNumber("epochs", o.Epochs);
        w.WriteNumber("batch", o.MinibatchSize);
        w.WriteNumber("lr", o.LearningRate);
        w.WriteBoolean("anneal_lr", o.AnnealLearningRate);
        w.WriteNumber("gamma", o.Gamma);
        w.WriteNumber("lambda", o.Lambda);
        w.WriteNumber("clip", o.ClipRange);
        w.WriteNumber("ent_coef", o.EntropyCoefficient);
        w.WriteNumber("vf_coef", o.ValueCoefficient);
        w.WriteNumber("max_grad_norm", o.MaxGradNorm);
        w.WriteNumber("log_std", o.InitialLogStd);
        w.WriteString("hidden", string.Join("x", o.HiddenSizes));
        if (o.TargetKl is { } kl) w.WriteNumber("target_kl", kl);
        w.WriteBoolean("norm_obs", o.NormalizeObservations);
        w.WriteBoolean("norm_reward", o.NormalizeRewards);
        w.WriteBoolean("sde", o.StateDependentExploration);
        if (o.StateDependentExploration) w.WriteNumber("sde_freq", o.SdeSampleFrequency);
        w.WriteEndObject();
    }

    public static (string Key, string Value) Split(string pair, string option)
    {
        int eq = pair.IndexOf('=');
        if (eq <= 0 || eq == pair.Length - 1) throw new CliUsageException($"{option} takes name=value, got '{pair}'.");
        return (pair[..eq].Trim(), pair[(eq + 1)..].Trim());
    }

    private static int Int(string key, string v) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : throw new CliUsageException($"--param {key} must be a whole number, got '{v}'.");

    private static double Double(string key, string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : throw new CliUsageException($"--param {key} must be a number, got '{v}'.");

    private static bool Bool(string key, string v) => v switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new CliUsageException($"--param {key} must be true or false, got '{v}'."),
    };
}
