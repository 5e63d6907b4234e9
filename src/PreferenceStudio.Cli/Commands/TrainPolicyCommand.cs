using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Policies;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio train-policy</c>: trains a PPO policy headless on the true reward or a learned reward model, then
/// evaluates it (deterministic actions, true reward). Progress goes to stderr; the last stdout line is one JSON object.
/// </summary>
public static class TrainPolicyCommand
{
    private const string Usage =
        "usage: studio train-policy --env NAME --reward true|FILE --steps N [--seed 1] [--threads 1] [--save PATH]\n" +
        "         [--eval-episodes 10] [--checkpoint PATH [--checkpoint-every 10] [--resume]] [--rater NAME]\n" +
        "         [--env-param k=v ...] [--param k=v ...]\n" +
        "  --reward FILE   a reward-model checkpoint (any type studio train writes); --rater NAME picks a rater of a\n" +
        "                  per-rater model and conditions the policy on that rater's latent\n" +
        "  --resume        continue from --checkpoint when it exists (its step count counts towards --steps)\n" +
        "  --param         PPO settings, repeatable or comma-separated: " + PpoParameters.Names + "\n" +
        "  --env-param     environment parameters, e.g. gravity=10";

    private static readonly string[] Options =
        ["env", "reward", "steps", "seed", "threads", "save", "eval-episodes", "checkpoint", "checkpoint-every", "resume", "rater", "help"];

    /// <summary>Runs the verb. Exit codes: 0 success, 2 bad arguments, 1 training failed.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var clock = Stopwatch.StartNew();
        var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
        Settings settings;
        try
        {
            var (rest, ppo, envParams) = SplitRepeated(args);
            var cli = CliArgs.Parse(rest);
            if (cli.Has("help"))
            {
                Console.Error.WriteLine(Usage);
                return 0;
            }
            cli.EnsureOnly(Options);
            settings = Settings.From(cli, ppo, envParams);
        }
        catch (Exception e) when (e is CliUsageException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        using var worker = new TorchTrainingThread(new TorchOptions { Device = "cpu", Threads = settings.Threads });
        try
        {
            await worker.Device.ConfigureAwait(false);
            var outcome = await worker.RunAsync(() => TrainAndEvaluate(settings)).ConfigureAwait(false);
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalSeconds;
            Console.Out.WriteLine(ResultJson(settings, outcome, clock.Elapsed.TotalSeconds, cpu));
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
            Console.Error.WriteLine($"PPO on {s.Environment.Name}, reward {reward.Name}, {s.Ppo.TotalSteps} steps, " +
                                    $"rollout {s.Ppo.Envs} x {s.Ppo.StepsPerEnv}, seed {s.Ppo.Seed}.");
            var result = new PpoTrainer().Train(s.Environment, reward, s.Ppo, latent, new StderrProgress(),
                resumeFrom: s.Resume ? s.Ppo.CheckpointPath : null);
            using var policy = result.Policy;
            if (s.SavePath is not null) policy.Save(s.SavePath);
            var evaluation = PolicyEvaluation.Evaluate(s.Environment, policy, s.EvalEpisodes, seed: s.Ppo.Seed + 1_000_003);
            Console.Error.WriteLine($"evaluation over {evaluation.Episodes} episodes: mean return {evaluation.MeanReturn:F2} " +
                                    $"(std {evaluation.StdReturn:F2})" + (evaluation.SuccessRate is { } sr ? $", success {sr:P0}" : ""));
            return new Outcome(result.Steps, result.StartSteps, result.Iterations, result.Last, evaluation, reward.Name, policy.ActionStd().Average());
        }
        finally
        {
            model?.Dispose();
        }
    }

    /// <summary>--param and --env-param may repeat; CliArgs keeps only the last value of a key, so they are taken out first.</summary>
    private static (List<string> Others, List<string> Ppo, List<string> Env) SplitRepeated(string[] args)
    {
        var rest = new List<string>();
        var ppo = new List<string>();
        var env = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            var target = args[i] switch { "--param" => ppo, "--env-param" => env, _ => null };
            if (target is null)
            {
                rest.Add(args[i]);
                continue;
            }
            if (i + 1 >= args.Length) throw new CliUsageException($"{args[i]} needs a value like name=value.");
            target.AddRange(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        return (rest, ppo, env);
    }

    private static string ResultJson(Settings s, Outcome o, double seconds, double cpuSeconds)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("algorithm", GaussianPolicy.AlgorithmName);
            w.WriteString("env", s.Environment.Name);
            w.WriteString("reward", o.Reward);
            w.WriteNumber("steps", o.Steps);
            w.WriteNumber("start_steps", o.StartSteps);
            w.WriteNumber("iterations", o.Iterations);
            w.WriteNumber("eval_episodes", o.Evaluation.Episodes);
            Number(w, "mean_return", o.Evaluation.MeanReturn);
            Number(w, "std_return", o.Evaluation.StdReturn);
            Number(w, "mean_episode_length", o.Evaluation.MeanLength);
            if (o.Evaluation.SuccessRate is { } success) Number(w, "success_rate", success);
            else w.WriteNull("success_rate");
            Number(w, "train_mean_return", o.Last?.MeanEpisodeReturn ?? double.NaN);
            Number(w, "action_std", o.ActionStd);
            w.WriteNumber("seed", s.Ppo.Seed);
            w.WriteNumber("threads", s.Threads);
            Number(w, "seconds", seconds);
            Number(w, "cpu_seconds", cpuSeconds);
            w.WritePropertyName("ppo");
            PpoParameters.Write(w, s.Ppo);
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

    private sealed record Outcome(long Steps, long StartSteps, int Iterations, PolicyTrainingProgress? Last,
        PolicyEvaluationResult Evaluation, string Reward, double ActionStd);

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
        public static Settings From(CliArgs cli, List<string> ppoParams, List<string> envParams)
        {
            var env = EnvironmentRegistry.Create(cli.Require("env"), ParseEnvParameters(envParams));
            if (env.ActionSpace.IsDiscrete)
                throw new CliUsageException($"{env.Name} has discrete actions; train-policy trains PPO policies for continuous-action environments.");
            string reward = cli.Require("reward");
            string? rewardPath = reward == "true" ? null : reward;
            if (rewardPath is not null && !File.Exists(rewardPath))
                throw new CliUsageException($"--reward is 'true' or a reward-model file; {rewardPath} does not exist.");
            long steps = cli.Get("steps") is { } text && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) && n > 0
                ? n
                : throw new CliUsageException("--steps must be a positive whole number of environment steps.");
            int threads = cli.GetInt("threads", 1);
            if (threads < 0) throw new CliUsageException("--threads must be 0 (libtorch default) or more.");
            int episodes = cli.GetInt("eval-episodes", 10);
            if (episodes < 1) throw new CliUsageException("--eval-episodes must be at least 1.");
            // The environment's preset (PpoPresets) first, then --param overrides.
            var options = PpoParameters.Apply(PpoPresets.For(env.Name) with
            {
                TotalSteps = steps,
                Seed = cli.GetInt("seed", 1),
                CheckpointPath = cli.Get("checkpoint"),
                CheckpointEvery = cli.GetInt("checkpoint-every", 10),
            }, ppoParams);
            bool resume = cli.GetFlag("resume");
            if (resume && options.CheckpointPath is null) throw new CliUsageException("--resume needs --checkpoint PATH.");
            if (cli.Has("rater") && rewardPath is null) throw new CliUsageException("--rater needs --reward FILE (a per-rater reward model).");
            options.Validate();
            return new Settings(env, rewardPath, cli.Get("rater"), threads, cli.Get("save"), episodes, resume, options);
        }

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
