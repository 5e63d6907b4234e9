using System.Text.Json;
using Npgsql;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.IntegrationTests.Web;

namespace PreferenceStudio.IntegrationTests.Cli;

/// <summary>The studio CLI as a user runs it: the built program, its exit code, its last stdout line.</summary>
public sealed class CliTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static Task<(int Exit, string[] Stdout, string Stderr)> StudioAsync(params string[] args) => StudioWithInputAsync(null, args);

    private static Task<(int Exit, string[] Stdout, string Stderr)> StudioWithInputAsync(string? stdin, params string[] args) =>
        StudioProcess.RunAsync(args, stdin);

    private static string WriteOracleDataset(int pairs, int seed)
    {
        var env = EnvironmentRegistry.Get("delivery-gridworld");
        var rng = new Random(seed);
        var segments = Rollouts.CollectRandom(env, pairs * 2, rng).SelectMany(t => SegmentCutter.Cut(env, t, 3)).ToList();
        var path = Path.Combine(Path.GetTempPath(), $"oracle-{Guid.NewGuid():N}.jsonl");
        using var writer = new StreamWriter(path);
        for (int i = 0; i < pairs; i++)
        {
            var (left, right) = (segments[2 * i], segments[2 * i + 1]);
            double l = env.TrueReturn(left), r = env.TrueReturn(right);
            var label = l > r ? PreferenceChoice.Left : r > l ? PreferenceChoice.Right : PreferenceChoice.Equal;
            writer.WriteLine(PreferenceJsonl.Write(new PreferenceRecord($"oracle/{i}", env.Name, left, right, label)));
        }
        return path;
    }

    [Fact]
    public async Task Train_prints_held_out_metrics_as_its_last_line()
    {
        var data = WriteOracleDataset(400, seed: 21);
        var (exit, stdout, stderr) = await StudioAsync("train", "--env", "delivery-gridworld", "--data", data, "--model", "bt", "--holdout", "0.2", "--seed", "1");
        Assert.True(exit == 0, stderr);
        var result = JsonDocument.Parse(stdout[^1]).RootElement;
        Assert.Equal("bt", result.GetProperty("model").GetString());
        Assert.Equal(320, result.GetProperty("n_train").GetInt32());
        Assert.Equal(80, result.GetProperty("n_test").GetInt32());
        Assert.True(result.GetProperty("heldout_accuracy").GetDouble() > 0.9, stdout[^1]);
        Assert.InRange(result.GetProperty("heldout_loglik").GetDouble(), -0.7, 0);
    }

    [Fact]
    public async Task Train_refuses_a_malformed_file_naming_the_line()
    {
        var data = WriteOracleDataset(5, seed: 22);
        var lines = File.ReadAllLines(data).ToList();
        lines.Insert(2, "{ not json");
        File.WriteAllLines(data, lines);
        var (exit, stdout, stderr) = await StudioAsync("train", "--env", "delivery-gridworld", "--data", data);
        // The arguments were fine; the file was not: a failure (1), not a usage error (2).
        Assert.Equal(1, exit);
        Assert.Empty(stdout);
        Assert.Contains("line 3", stderr);
    }

    [Fact]
    public async Task Simulate_prints_a_json_line_per_round()
    {
        var (exit, stdout, stderr) = await StudioAsync("simulate", "--env", "delivery-gridworld", "--teacher", "oracle",
            "--rounds", "2", "--pairs-per-round", "60", "--segment-length", "3", "--seed", "1");
        Assert.True(exit == 0, stderr);
        Assert.Equal(2, stdout.Length);
        var rounds = stdout.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([1, 2], rounds.Select(r => r.GetProperty("round").GetInt32()));
        Assert.Equal([60, 120], rounds.Select(r => r.GetProperty("labels").GetInt32()));
        Assert.All(rounds, r =>
        {
            Assert.True(r.GetProperty("heldout_accuracy").GetDouble() > 0.8, r.ToString());
            Assert.InRange(r.GetProperty("scaled_return").GetDouble(), -1, 1.0001);
        });

        var (badExit, _, badErr) = await StudioAsync("simulate", "--env", "delivery-gridworld", "--teacher", "psychic");
        Assert.Equal(2, badExit);
        Assert.Contains("oracle", badErr);
    }

    [Fact]
    public async Task Train_cross_validates_each_model_type_and_saves_a_checkpoint_train_policy_can_use()
    {
        var data = WriteOracleDataset(200, seed: 23);
        var (exit, stdout, stderr) = await StudioAsync("train", "--env", "delivery-gridworld", "--data", data, "--model", "regret", "--folds", "3");
        Assert.True(exit == 0, stderr);
        var folds = JsonDocument.Parse(stdout[^1]).RootElement;
        Assert.Equal(3, folds.GetProperty("per_fold").GetArrayLength());
        Assert.True(folds.GetProperty("heldout_accuracy").GetDouble() > 0.8, stdout[^1]);
        Assert.True(folds.GetProperty("heldout_accuracy_std").GetDouble() >= 0);

        var (unknownExit, _, unknownErr) = await StudioAsync("train", "--env", "delivery-gridworld", "--data", data, "--model", "gpt");
        Assert.Equal(2, unknownExit);
        Assert.Contains("vpl", unknownErr);
    }

    [Fact]
    public async Task Train_policy_and_simulate_run_on_a_continuous_task()
    {
        var (exit, stdout, stderr) = await StudioAsync("train-policy", "--env", "pendulum", "--reward", "true", "--steps", "2048", "--seed", "1",
            "--env-param", "episode_steps=50", "--eval-episodes", "2");
        Assert.True(exit == 0, stderr);
        var policy = JsonDocument.Parse(stdout[^1]).RootElement;
        Assert.Equal("pendulum", policy.GetProperty("env").GetString());
        Assert.True(policy.GetProperty("steps").GetInt64() >= 2048);
        // 50 steps of pendulum cost at most about 16.3 each.
        Assert.InRange(policy.GetProperty("mean_return").GetDouble(), -50 * 16.3, 0);
        Assert.Equal(JsonValueKind.Null, policy.GetProperty("success_rate").ValueKind);

        var reward = Path.Combine(Path.GetTempPath(), $"nav-{Guid.NewGuid():N}.bin");
        var (simExit, simOut, simErr) = await StudioAsync("simulate", "--env", "multi-goal-nav", "--params", "maze=2,episode_steps=60",
            "--model", "vpl", "--raters", "1,1", "--rounds", "1", "--pairs-per-round", "30", "--segment-length", "20", "--learner", "ppo", "--policy-steps", "2048",
            "--epochs", "20", "--save", reward);
        Assert.True(simExit == 0, simErr);
        var round = JsonDocument.Parse(Assert.Single(simOut)).RootElement;
        Assert.Equal(30, round.GetProperty("labels").GetInt32());
        Assert.InRange(round.GetProperty("success_rate").GetDouble(), 0, 1);
        Assert.True(round.TryGetProperty("per_rater_accuracy_mean", out _), round.ToString());
        Assert.True(File.Exists(reward));

        // SAC on that learned reward, after a little exploration; the agent file is written where asked.
        var agent = Path.Combine(Path.GetTempPath(), $"nav-{Guid.NewGuid():N}.sac");
        try
        {
            var (sacExit, sacOut, sacErr) = await StudioAsync("train-policy", "--env", "multi-goal-nav", "--env-param", "maze=2,episode_steps=60",
                "--reward", reward, "--learner", "sac", "--explore-steps", "200", "--steps", "800", "--eval-episodes", "2", "--save", agent);
            Assert.True(sacExit == 0, sacErr);
            var sac = JsonDocument.Parse(sacOut[^1]).RootElement;
            Assert.Equal("sac", sac.GetProperty("algorithm").GetString());
            Assert.StartsWith("vpl:", sac.GetProperty("reward").GetString());
            Assert.Equal(1000, sac.GetProperty("steps").GetInt64());
            Assert.Equal(200, sac.GetProperty("explore_steps").GetInt64());
            Assert.Equal(1, sac.GetProperty("sac").GetProperty("n_steps").GetInt32());
            Assert.InRange(sac.GetProperty("success_rate").GetDouble(), 0, 1);
            Assert.True(new FileInfo(agent).Length > 1000);
        }
        finally
        {
            File.Delete(agent);
            File.Delete(reward);
        }

        var (badExit, _, badErr) = await StudioAsync("train-policy", "--env", "delivery-gridworld", "--reward", "true", "--steps", "100");
        Assert.Equal(2, badExit);
        Assert.Contains("discrete actions", badErr);
        var (ppoOnlyExit, _, ppoOnlyErr) = await StudioAsync("train-policy", "--env", "pendulum", "--reward", "true", "--steps", "100", "--learner", "sac", "--param", "lr=0.1");
        Assert.Equal(2, ppoOnlyExit);
        Assert.Contains("PPO settings", ppoOnlyErr);
        var (exploreExit, _, exploreErr) = await StudioAsync("train-policy", "--env", "pendulum", "--reward", "true", "--steps", "100", "--explore-steps", "50");
        Assert.Equal(2, exploreExit);
        Assert.Contains("--learner sac", exploreErr);
    }

    [Fact]
    public async Task Simulate_and_bench_labels_run_sac_with_exploration_and_surf_on_a_continuous_task()
    {
        var (exit, stdout, stderr) = await StudioAsync("simulate", "--env", "pendulum", "--params", "episode_steps=50", "--rounds", "2",
            "--pairs-per-round", "20", "--segment-length", "25", "--explore-steps", "300", "--policy-steps", "400", "--surf", "--epochs", "10",
            "--seed", "2", "--threads", "1");
        Assert.True(exit == 0, stderr);
        Assert.Equal(2, stdout.Length);
        var rounds = stdout.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        // SAC is the default learner on a continuous task; its steps count the exploration and add up over rounds.
        Assert.All(rounds, r => Assert.Equal("sac", r.GetProperty("learner").GetString()));
        Assert.Equal([700L, 1100L], rounds.Select(r => r.GetProperty("policy_steps").GetInt64()));
        Assert.All(rounds, r => Assert.Equal(r.GetProperty("n_train").GetInt32(), r.GetProperty("surf_crops").GetInt32()));
        Assert.All(rounds, r => Assert.True(r.GetProperty("surf_pseudo_labels").GetInt32() >= 0));
        Assert.All(rounds, r => Assert.InRange(r.GetProperty("mean_return").GetDouble(), -50 * 16.3, 0));

        var (benchExit, benchOut, benchErr) = await StudioAsync("bench", "labels", "--env", "pendulum", "--models", "bt", "--strategies", "random",
            "--teachers", "oracle,mistake", "--seeds", "1", "--rounds", "1", "--pairs-per-round", "10", "--policy-steps", "300", "--epochs", "5",
            "--target-return", "1");
        Assert.True(benchExit == 0, benchErr);
        var summary = JsonDocument.Parse(benchOut[^1]).RootElement;
        Assert.Equal("mean_return", summary.GetProperty("measure").GetString());
        Assert.Equal(1.0, summary.GetProperty("target").GetDouble());
        var results = summary.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["oracle", "mistake"], results.Select(r => r.GetProperty("teacher").GetString()));
        // A pendulum return is never positive: no seed reaches the target, so the median is null, not a count.
        Assert.All(results, r => Assert.Equal(JsonValueKind.Null, r.GetProperty("median").ValueKind));
        Assert.All(results, r => Assert.Equal("sac", r.GetProperty("learner").GetString()));

        var (tabularExit, _, tabularErr) = await StudioAsync("bench", "labels", "--env", "delivery-gridworld", "--learners", "sac");
        Assert.Equal(2, tabularExit);
        Assert.Contains("tabular", tabularErr);
        var (discreteExit, _, discreteErr) = await StudioAsync("simulate", "--env", "delivery-gridworld", "--learner", "sac");
        Assert.Equal(2, discreteExit);
        Assert.Contains("discrete actions", discreteErr);
    }

    [Fact]
    public async Task Population_writes_its_raters_and_bench_population_asks_held_out_raters()
    {
        var path = Path.Combine(Path.GetTempPath(), $"population-{Guid.NewGuid():N}.jsonl");
        try
        {
            var (exit, stdout, stderr) = await StudioAsync("population", "--env", "delivery-gridworld", "--kinds", "3,2", "--min-labels", "40",
                "--max-labels", "50", "--seed", "2", "--out", path);
            Assert.True(exit == 0, stderr);
            var summary = JsonDocument.Parse(stdout[^1]).RootElement;
            PreferenceJsonlReadResult read;
            using (var file = File.OpenText(path)) read = PreferenceJsonl.ReadAll(file);
            Assert.True(read.IsValid, string.Join("; ", read.Errors));
            var records = read.Records;
            Assert.Equal(summary.GetProperty("labels").GetInt32(), records.Count);
            Assert.Equal(5, records.Select(r => r.Rater).Distinct().Count());
            Assert.Equal(["kind-0", "kind-1"], records.Select(r => r.Group).Distinct().Order());
            Assert.All(records.GroupBy(r => r.Rater), g => Assert.InRange(g.Count(), 40, 50));
        }
        finally
        {
            File.Delete(path);
        }

        var (benchExit, benchOut, benchErr) = await StudioAsync("bench", "population", "--kinds", "3,3", "--min-labels", "40", "--max-labels", "40",
            "--beta", "4", "--noisy-share", "0", "--new-raters", "1", "--queries", "4", "--candidates", "30", "--test-pairs", "40", "--seed", "2");
        Assert.True(benchExit == 0, benchErr);
        var bench = JsonDocument.Parse(benchOut[^1]).RootElement;
        // One rater of each kind held out of the 4 + 4 generated; the others' 40 labels each are the training set.
        Assert.Equal(6, bench.GetProperty("trained_raters").GetInt32());
        Assert.Equal(240, bench.GetProperty("training_labels").GetInt32());
        var raters = bench.GetProperty("per_rater").EnumerateArray().ToList();
        Assert.Equal([0, 1], raters.Select(r => r.GetProperty("kind").GetInt32()));
        Assert.Equal([1.0, 2, 4], bench.GetProperty("label_budgets").EnumerateArray().Select(b => b.GetDouble()));
        Assert.All(raters, r => Assert.Equal(3, r.GetProperty("active").GetArrayLength()));
        Assert.All(raters, r => Assert.InRange(r.GetProperty("oracle").GetDouble(), 0.5, 1));
        Assert.Equal(bench.GetProperty("oracle").GetDouble() - bench.GetProperty("active_at_max").GetDouble(),
            bench.GetProperty("oracle_minus_active").GetDouble(), 3);

        var (badExit, _, badErr) = await StudioAsync("bench", "population", "--queries", "10", "--candidates", "5");
        Assert.Equal(2, badExit);
        Assert.Contains("--candidates", badErr);
    }

    [Fact]
    public async Task Simulate_trains_on_hierarchy_labels_alone_and_refuses_a_bad_ranking()
    {
        var (exit, stdout, stderr) = await StudioAsync("simulate", "--env", "pendulum", "--params", "episode_steps=50",
            "--source", "hierarchy", "--hierarchy", "angle,velocity,torque", "--margins", "1,1,0", "--rounds", "1", "--pairs-per-round", "20",
            "--segment-length", "25", "--hierarchy-pairs", "60", "--learner", "ppo", "--policy-steps", "1024", "--epochs", "5", "--seed", "1", "--threads", "1");
        Assert.True(exit == 0, stderr);
        var round = JsonDocument.Parse(Assert.Single(stdout)).RootElement;
        Assert.Equal("hierarchy", round.GetProperty("source").GetString());
        Assert.Equal(["angle", "velocity", "torque"], round.GetProperty("hierarchy").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal([1.0, 1.0, 0.0], round.GetProperty("margins").EnumerateArray().Select(m => m.GetDouble()));
        Assert.Equal(0, round.GetProperty("labels_clip").GetInt32());
        Assert.InRange(round.GetProperty("labels_hierarchy").GetInt32(), 1, 60);
        Assert.Equal(round.GetProperty("labels_hierarchy").GetInt32(), round.GetProperty("n_train").GetInt32());
        // The teacher still answers the held-out pairs, and only those.
        Assert.Equal(round.GetProperty("n_test").GetInt32(), round.GetProperty("labels").GetInt32());
        Assert.True(round.GetProperty("n_test").GetInt32() > 0, round.ToString());
        Assert.InRange(round.GetProperty("mean_return").GetDouble(), -50 * 16.3, 0);

        var (twiceExit, twiceOut, twiceErr) = await StudioAsync("simulate", "--env", "pendulum", "--source", "hierarchy", "--hierarchy", "angle,angle,torque");
        Assert.Equal(2, twiceExit);
        Assert.Empty(twiceOut);
        Assert.Contains("'angle' appears 2 times", twiceErr);
        Assert.Contains("'velocity' is missing", twiceErr);

        var (marginExit, _, marginErr) = await StudioAsync("simulate", "--env", "pendulum", "--source", "both", "--hierarchy", "angle,velocity,torque", "--margins", "1,-1,1");
        Assert.Equal(2, marginExit);
        Assert.Contains("margin of level 2", marginErr);

        var (unknownExit, _, unknownErr) = await StudioAsync("simulate", "--env", "pendulum", "--source", "hierarchy", "--hierarchy", "angle,speed,torque");
        Assert.Equal(2, unknownExit);
        Assert.Contains("'speed' is not a factor of pendulum", unknownErr);
    }

    [Fact]
    public async Task Migrate_applies_the_migrations_to_the_given_database()
    {
        var server = postgres.ServerConnectionString;
        var name = $"t_cli_migrate_{Guid.NewGuid():N}"[..30];
        var target = new NpgsqlConnectionStringBuilder(postgres.ServerConnectionString) { Database = name }.ConnectionString;
        var (exit, stdout, stderr) = await StudioAsync("migrate", "--connection", target);
        Assert.True(exit == 0, stderr);
        var result = JsonDocument.Parse(stdout[^1]).RootElement;
        Assert.True(result.GetProperty("applied").GetInt32() >= 1);
        var (again, againOut, _) = await StudioAsync("migrate", "--connection", target);
        Assert.Equal(0, again);
        Assert.Equal(0, JsonDocument.Parse(againOut[^1]).RootElement.GetProperty("applied").GetInt32());

        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        NpgsqlConnection.ClearAllPools();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Users_add_makes_an_account_from_a_password_on_stdin_and_tokens_create_prints_a_token_that_works_once()
    {
        var cs = await postgres.CreateDatabaseAsync("cli_accounts");
        var (exit, stdout, stderr) = await StudioWithInputAsync("a long enough passphrase", "users", "add", "--email", "ops@cli.test", "--role", "admin", "--connection", cs);
        Assert.True(exit == 0, stderr);
        Assert.Equal("admin", JsonDocument.Parse(stdout[^1]).RootElement.GetProperty("role").GetString());

        // A refused password or role says why, and makes nothing.
        var (shortExit, _, shortErr) = await StudioWithInputAsync("short", "users", "add", "--email", "x@cli.test", "--role", "researcher", "--connection", cs);
        Assert.Equal(2, shortExit);
        Assert.Contains("password", shortErr);
        var (roleExit, _, roleErr) = await StudioWithInputAsync("a long enough passphrase", "users", "add", "--email", "y@cli.test", "--role", "boss", "--connection", cs);
        Assert.Equal(2, roleExit);
        Assert.Contains("role is admin or researcher", roleErr);
        var (_, listOut, _) = await StudioAsync("users", "list", "--connection", cs);
        Assert.Equal(["ops@cli.test"], JsonDocument.Parse(listOut[^1]).RootElement.GetProperty("users").EnumerateArray().Select(u => u.GetProperty("email").GetString()));

        var (tokenExit, tokenOut, tokenErr) = await StudioAsync("tokens", "create", "--email", "ops@cli.test", "--name", "nightly", "--scopes", "campaigns:read,datasets:read", "--connection", cs);
        Assert.True(tokenExit == 0, tokenErr);
        var created = JsonDocument.Parse(tokenOut[^1]).RootElement;
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("pst_", token);
        Assert.Equal(["campaigns:read", "datasets:read"], created.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        await using (var db = PreferenceStudio.Core.Data.StudioDbContext.Create(cs))
            Assert.DoesNotContain(token, string.Join(" ", db.ApiTokens.Select(t => t.TokenHash + t.Prefix)));

        // The token works against the studio on that database (no admin set-up link needed: the CLI made the admin).
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("cli-accounts"), runWorker: false);
        var client = app.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/api/v1/campaigns")).StatusCode);
        var (_, revokeOut, revokeErr) = await StudioAsync("tokens", "revoke", "--email", "ops@cli.test", "--id", created.GetProperty("id").GetString()!, "--connection", cs);
        Assert.True(revokeOut.Length > 0, revokeErr);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/campaigns")).StatusCode);

        var (badScopeExit, _, badScopeErr) = await StudioAsync("tokens", "create", "--email", "ops@cli.test", "--name", "x", "--scopes", "everything", "--connection", cs);
        Assert.Equal(2, badScopeExit);
        Assert.Contains("Unknown scope(s) everything", badScopeErr);
    }

    private static long DuckCount(string file) => StudioProcess.DuckCount(file);

    [Fact]
    public async Task Export_writes_a_campaigns_tables_and_bundle_into_a_folder()
    {
        var cs = await postgres.CreateDatabaseAsync("cliexport");
        Guid campaign;
        await using (var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("cliexport"), runWorker: false))
        {
            var http = app.CreateClient();
            campaign = await StudioTestApi.CreateCampaignAsync(http, "cli-export", pairs: 10, labels: 10, rounds: 1, start: false);
            var import = await http.PostAsync($"/api/v1/campaigns/{campaign}/preferences/import",
                new StringContent(string.Join("\n", DatasetApiTests.SampleLines(7, seed: 31)) + "\n", System.Text.Encoding.UTF8, "application/x-ndjson"));
            Assert.Equal(System.Net.HttpStatusCode.OK, import.StatusCode);
        }
        var outDir = StudioAppFactory.NewDataRoot("cliexport-out");
        var (exit, stdout, stderr) = await StudioAsync("export", "--campaign", campaign.ToString(), "--format", "parquet", "--out", outDir, "--connection", cs);
        Assert.True(exit == 0, stderr);
        var result = JsonDocument.Parse(stdout[^1]).RootElement;
        var files = result.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("kind").GetString()!, f => f.GetProperty("path").GetString()!);
        Assert.Equal(["comparisons", "rankings", "segments", "raters"], files.Keys);
        Assert.Equal(7, DuckCount(files["comparisons"]));
        Assert.Equal(14, DuckCount(files["segments"]));

        var (bundleExit, bundleOut, bundleErr) = await StudioAsync("export", "--campaign", campaign.ToString(), "--format", "bundle", "--license", "mit", "--out", outDir, "--connection", cs);
        Assert.True(bundleExit == 0, bundleErr);
        using (var zip = System.IO.Compression.ZipFile.OpenRead(JsonDocument.Parse(bundleOut[^1]).RootElement.GetProperty("files")[0].GetProperty("path").GetString()!))
            Assert.Contains("README.md", zip.Entries.Select(e => e.FullName));

        var (badExit, _, badErr) = await StudioAsync("export", "--campaign", campaign.ToString(), "--format", "xlsx", "--out", outDir, "--connection", cs);
        Assert.Equal(2, badExit);
        Assert.All(new[] { "jsonl", "csv", "parquet", "bundle" }, format => Assert.Contains($"'{format}'", badErr));
        var (missingExit, _, missingErr) = await StudioAsync("export", "--campaign", Guid.NewGuid().ToString(), "--format", "csv", "--kind", "comparisons", "--out", outDir, "--connection", cs);
        Assert.Equal(1, missingExit);
        Assert.Contains("No campaign", missingErr);
    }

    [Fact]
    public async Task Convert_turns_an_exchange_file_into_tables_and_refuses_a_malformed_one_writing_nothing()
    {
        var lines = DatasetApiTests.SampleLines(9, seed: 32);
        var input = Path.Combine(StudioAppFactory.NewDataRoot("convert"), "prefs.jsonl");
        await File.WriteAllLinesAsync(input, lines);
        var outDir = StudioAppFactory.NewDataRoot("convert-out");
        var (exit, stdout, stderr) = await StudioAsync("convert", input, "--format", "parquet", "--out", outDir);
        Assert.True(exit == 0, stderr);
        var result = JsonDocument.Parse(stdout[^1]).RootElement;
        Assert.Equal(9, result.GetProperty("comparisons").GetInt32());
        Assert.Equal(9, DuckCount(Path.Combine(outDir, "prefs-comparisons.parquet")));
        var distinct = lines.Select(l => PreferenceJsonl.ParseLine(l).Record!).SelectMany(r => new[] { r.Left, r.Right })
            .Select(x => PreferenceStudio.Core.Data.SegmentRecord.ComputeContentHash(x.States, x.Actions)).Distinct().Count();
        Assert.Equal(distinct, DuckCount(Path.Combine(outDir, "prefs-segments.parquet")));

        var bad = lines.ToList();
        bad.Insert(2, bad[0].Replace("\"label\":", "\"label\":\"sideways\",\"x\":"));
        var badInput = Path.Combine(StudioAppFactory.NewDataRoot("convert-bad"), "bad.jsonl");
        await File.WriteAllLinesAsync(badInput, bad);
        var badOut = Path.Combine(StudioAppFactory.NewDataRoot("convert-bad-out"), "tables");
        var (badExit, _, badErr) = await StudioAsync("convert", badInput, "--format", "csv", "--out", badOut);
        Assert.Equal(1, badExit);
        Assert.Contains("line 3", badErr);
        Assert.False(Directory.Exists(badOut));
    }

    [Fact]
    public async Task Convert_takes_an_exchange_file_to_Parquet_and_back_keeping_every_comparison_and_refuses_a_bad_table()
    {
        var env = EnvironmentRegistry.Get("delivery-gridworld");
        var lines = DatasetApiTests.SampleLines(12, seed: 33);
        var extra = PreferenceJsonl.ParseLine(lines[1]).Record! with { Id = "sample/gold" };
        lines.Add(PreferenceJsonl.Write(extra with
        {
            Gold = PreferenceChoice.Left, ComparisonId = "cmp-7", Round = 2, PolicyId = "policy-3",
            LeftClipSha256 = new string('a', 64), RightClipSha256 = new string('b', 64),
        }));
        lines.Add(PreferenceJsonl.Write(new FactorRankingRecord("rank/1", env.Name, "r-1", env.Factors.Select(f => f.Name).ToList(),
            env.Factors.Select((_, i) => i * 0.5).ToList(), new DateTimeOffset(2026, 11, 2, 9, 30, 15, 250, TimeSpan.Zero))));
        var input = Path.Combine(StudioAppFactory.NewDataRoot("roundtrip"), "prefs.jsonl");
        await File.WriteAllLinesAsync(input, lines);
        var tables = StudioAppFactory.NewDataRoot("roundtrip-tables");
        var (toExit, _, toErr) = await StudioAsync("convert", input, "--format", "parquet", "--out", tables);
        Assert.True(toExit == 0, toErr);

        var back = StudioAppFactory.NewDataRoot("roundtrip-back");
        var (exit, stdout, stderr) = await StudioAsync("convert", Path.Combine(tables, "prefs-comparisons.parquet"), "--format", "jsonl", "--out", back);
        Assert.True(exit == 0, stderr);
        Assert.Equal(13, JsonDocument.Parse(stdout[^1]).RootElement.GetProperty("comparisons").GetInt32());
        // Line for line the same file: every comparison (segments, label, rater, group, times, gold, ids, hashes) and the ranking.
        Assert.Equal(lines, await File.ReadAllLinesAsync(Path.Combine(back, "prefs.jsonl")));

        // A table the exchange format cannot hold is refused whole.
        var wrongWay = await StudioAsync("convert", input, "--format", "jsonl", "--out", back);
        Assert.Equal(2, wrongWay.Exit);
        var (comparisons, segments, rankings) = PreferenceStudio.Web.Features.Dataset.RecordTables.From(PreferenceJsonl.ReadFile(input));
        comparisons[4].Label = "sideways";
        var badTables = StudioAppFactory.NewDataRoot("roundtrip-bad");
        await PreferenceStudio.Web.Features.Dataset.DatasetTables.WriteBatchesAsync(One(comparisons), "parquet", Path.Combine(badTables, "bad-comparisons.parquet"), default);
        await PreferenceStudio.Web.Features.Dataset.DatasetTables.WriteBatchesAsync(One(segments), "parquet", Path.Combine(badTables, "bad-segments.parquet"), default);
        var badOut = Path.Combine(StudioAppFactory.NewDataRoot("roundtrip-bad-out"), "jsonl");
        var (badExit, _, badErr) = await StudioAsync("convert", Path.Combine(badTables, "bad-comparisons.parquet"), "--format", "jsonl", "--out", badOut);
        Assert.Equal(1, badExit);
        Assert.Contains("comparisons row 5", badErr);
        Assert.Contains("sideways", badErr);
        Assert.False(Directory.Exists(badOut));
    }

    private static async IAsyncEnumerable<List<T>> One<T>(List<T> rows)
    {
        await Task.CompletedTask;
        yield return rows;
    }
}
