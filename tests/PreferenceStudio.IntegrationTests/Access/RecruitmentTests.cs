using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Environments;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.IntegrationTests.Web;

namespace PreferenceStudio.IntegrationTests.Access;

/// <summary>
/// A crowd-sourced study over HTTP: recruitment links carry the platform's participant, a participant who comes back
/// on another device is the same rater, consent comes before the first pair, a quota ends with the completion code,
/// the last answer can be taken back, and the participants list matches the database.
/// </summary>
public sealed class RecruitmentTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private StudioAppFactory _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _app = new StudioAppFactory(await postgres.CreateDatabaseAsync("recruitment"), StudioAppFactory.NewDataRoot("recruitment"));
        _http = _app.CreateClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static async Task<HttpClient> JoinAsync(StudioAppFactory app, string code, string query)
    {
        var client = StudioIdentities.NewClient(app);
        var response = await StudioIdentities.JoinResponseAsync(client, code, query: query);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/rate/{code}", response.Headers.Location?.ToString());
        return client;
    }

    private static async Task<JsonElement> NextAsync(HttpClient rater, Guid campaign)
    {
        var response = await rater.GetAsync($"/api/v1/campaigns/{campaign}/next");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Task<HttpResponseMessage> AnswerAsync(HttpClient rater, Guid campaign, Guid pair, string key, string choice = "left") =>
        rater.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/labels", new { comparison_id = pair, choice, idempotency_key = key });

    private static Guid PairOf(JsonElement state) => state.GetProperty("pair").GetProperty("comparison_id").GetGuid();

    [Fact]
    public async Task Participant_parameters_are_recorded_a_return_visit_resumes_the_rater_and_the_participants_csv_matches_the_database()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "crowd", pairs: 6, labels: 30, rounds: 1,
            extra: new Dictionary<string, object?> { ["labels_per_rater"] = 2, ["completion_code"] = "PS-DONE-7" });
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        var code = await StudioIdentities.JoinCodeAsync(_app, campaign);

        // A Prolific participant on their laptop answers one pair.
        var laptop = await JoinAsync(_app, code, "PROLIFIC_PID=5f0c9a1b&STUDY_ID=st-1&SESSION_ID=se-1");
        CampaignRater recorded;
        await using (var db = _app.CreateDb())
            recorded = await db.CampaignRaters.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.Kind == RaterKinds.Human);
        Assert.Equal(("prolific", "5f0c9a1b", "st-1", "se-1"), (recorded.ParticipantPlatform, recorded.ParticipantId, recorded.ParticipantStudy, recorded.ParticipantSession));
        var first = await NextAsync(laptop, campaign);
        Assert.Equal(0, first.GetProperty("rater_labels").GetInt32());
        Assert.Equal(2, first.GetProperty("labels_per_rater").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await AnswerAsync(laptop, campaign, PairOf(first), "a1")).StatusCode);

        // The same participant comes back on a phone (a new Prolific session): the same rater, with their answer counted.
        var phone = await JoinAsync(_app, code, "PROLIFIC_PID=5f0c9a1b&STUDY_ID=st-1&SESSION_ID=se-2");
        var resumed = await NextAsync(phone, campaign);
        Assert.Equal(1, resumed.GetProperty("rater_labels").GetInt32());
        Assert.NotEqual(PairOf(first), PairOf(resumed));
        await using (var db = _app.CreateDb())
        {
            var people = await db.CampaignRaters.AsNoTracking().Where(r => r.CampaignId == campaign && r.Kind == RaterKinds.Human).ToListAsync();
            var only = Assert.Single(people);
            Assert.Equal(recorded.RaterId, only.RaterId);
            Assert.Equal("se-2", only.ParticipantSession);
        }

        // The second answer reaches the quota: the next state is the completion code, and further answers are refused.
        Assert.Equal(HttpStatusCode.OK, (await AnswerAsync(phone, campaign, PairOf(resumed), "a2", "right")).StatusCode);
        var done = await NextAsync(laptop, campaign);
        Assert.Equal("quota_reached", done.GetProperty("status").GetString());
        Assert.Equal("PS-DONE-7", done.GetProperty("completion_code").GetString());
        Assert.Equal(2, done.GetProperty("rater_labels").GetInt32());
        Assert.Equal(JsonValueKind.Null, done.GetProperty("pair").ValueKind);
        var someone = await StudioTestApi.NextAsync(_http, campaign, "pilot");
        var extra = await AnswerAsync(phone, campaign, PairOf(someone), "a3");
        Assert.Equal(HttpStatusCode.Conflict, extra.StatusCode);
        Assert.Contains("all 2 pairs", await extra.Content.ReadAsStringAsync());
        // Finished means final: the answers given for the code cannot be taken back.
        var late = await laptop.PostAsync($"/api/v1/campaigns/{campaign}/labels/undo", null);
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("completion code", await late.Content.ReadAsStringAsync());

        // An MTurk worker, and a Prolific id a spreadsheet would run as a formula.
        var worker = await JoinAsync(_app, code, "workerId=A2WORKER&assignmentId=ASG-9&hitId=HIT-3");
        Assert.Equal(HttpStatusCode.OK, (await AnswerAsync(worker, campaign, PairOf(await NextAsync(worker, campaign)), "w1")).StatusCode);
        await JoinAsync(_app, code, "PROLIFIC_PID=" + Uri.EscapeDataString("=HYPERLINK(\"x\")") + "&STUDY_ID=st-1");
        // A plain visitor without platform parameters is listed too, with an empty participant id.
        await StudioIdentities.JoinAsync(_app, code);

        var csv = await _http.GetAsync($"/api/v1/campaigns/{campaign}/participants");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        Assert.Equal(["participant_id", "platform", "study", "session", "pseudonym", "joined_at", "labels", "seconds_spent", "completion_code_shown_at", "completion_code"], header);
        var rows = lines.Skip(1).Select(SplitCsv).Select(f => header.Zip(f).ToDictionary(p => p.First, p => p.Second)).ToList();

        await using (var db = _app.CreateDb())
        {
            var humans = await db.CampaignRaters.AsNoTracking().Where(r => r.CampaignId == campaign && r.Kind == RaterKinds.Human).ToListAsync();
            Assert.Equal(humans.Count, rows.Count);
            Assert.Equal(4, rows.Count);
            foreach (var person in humans)
            {
                var row = rows.Single(r => r["pseudonym"] == person.Pseudonym);
                var expectedId = person.ParticipantId is { } pid && pid.StartsWith('=') ? "'" + pid : person.ParticipantId ?? "";
                Assert.Equal(expectedId, row["participant_id"]);
                Assert.Equal(person.ParticipantPlatform ?? "", row["platform"]);
                Assert.Equal(person.ParticipantStudy ?? "", row["study"]);
                Assert.Equal(person.ParticipantSession ?? "", row["session"]);
                var labels = await db.Labels.CountAsync(l => l.CampaignId == campaign && l.RaterId == person.RaterId);
                Assert.Equal(labels.ToString(CultureInfo.InvariantCulture), row["labels"]);
                Assert.Equal(person.CompletedAt is { } at ? at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "", row["completion_code_shown_at"]);
                Assert.Equal(person.CompletedAt is null ? "" : "PS-DONE-7", row["completion_code"]);
                var last = await db.Labels.Where(l => l.CampaignId == campaign && l.RaterId == person.RaterId).MaxAsync(l => (DateTimeOffset?)(l.AnsweredAt ?? l.CreatedAt));
                if (last is null && person.CompletedAt is null) Assert.Equal("", row["seconds_spent"]);
                else
                {
                    var end = new[] { last, person.CompletedAt }.Max()!.Value;
                    Assert.Equal(Math.Round((end - person.JoinedAt).TotalSeconds, 1), double.Parse(row["seconds_spent"], CultureInfo.InvariantCulture), 1);
                }
            }
            var prolific = humans.Single(h => h.ParticipantId == "5f0c9a1b");
            Assert.NotNull(prolific.CompletedAt);
            Assert.Equal("2", rows.Single(r => r["participant_id"] == "5f0c9a1b")["labels"]);
            var mturk = rows.Single(r => r["platform"] == "mturk");
            Assert.Equal(("A2WORKER", "HIT-3", "ASG-9"), (mturk["participant_id"], mturk["study"], mturk["session"]));
        }

        // The same list as JSON, for scripts.
        var json = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/participants?format=json");
        Assert.Equal(4, json.GetArrayLength());
        var bad = await _http.GetAsync($"/api/v1/campaigns/{campaign}/participants?format=xlsx");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("format=csv", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Consent_comes_first_and_an_undone_answer_is_withdrawn_and_its_pair_offered_again()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "undo", pairs: 6, labels: 30, rounds: 1,
            extra: new Dictionary<string, object?> { ["consent"] = "I agree that my **answers** are stored.", ["instructions"] = "Pick the clip that *delivers*." });
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        var code = await StudioIdentities.JoinCodeAsync(_app, campaign);
        var person = await JoinAsync(_app, code, "PROLIFIC_PID=undo-1");

        // Nothing is served before consent, and an answer is refused.
        var before = await NextAsync(person, campaign);
        Assert.Equal("consent_required", before.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, before.GetProperty("pair").ValueKind);
        Assert.Equal(HttpStatusCode.NoContent, (await person.PostAsync($"/api/v1/campaigns/{campaign}/consent", null)).StatusCode);
        await using (var db = _app.CreateDb())
            Assert.NotNull((await db.CampaignRaters.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.ParticipantId == "undo-1")).ConsentedAt);

        var served = await NextAsync(person, campaign);
        Assert.Equal("ready", served.GetProperty("status").GetString());
        Assert.False(served.GetProperty("can_undo").GetBoolean());
        var pair = PairOf(served);
        Assert.Equal(HttpStatusCode.OK, (await AnswerAsync(person, campaign, pair, "k1", "left")).StatusCode);
        var after = await NextAsync(person, campaign);
        Assert.True(after.GetProperty("can_undo").GetBoolean());
        Assert.Equal(1, after.GetProperty("rater_labels").GetInt32());

        var undo = await person.PostAsync($"/api/v1/campaigns/{campaign}/labels/undo", null);
        Assert.Equal(HttpStatusCode.OK, undo.StatusCode);
        var receipt = await undo.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(pair, receipt.GetProperty("comparison_id").GetGuid());
        await using (var db = _app.CreateDb())
        {
            // Kept, marked withdrawn, and counted nowhere.
            var all = await db.Labels.IgnoreQueryFilters().AsNoTracking().Where(l => l.CampaignId == campaign).ToListAsync();
            var withdrawn = Assert.Single(all);
            Assert.NotNull(withdrawn.WithdrawnAt);
            Assert.Equal(0, await db.Labels.CountAsync(l => l.CampaignId == campaign));
        }
        // The pair comes back (before the one served after it), and the rater's count is back to 0.
        var again = await NextAsync(person, campaign);
        Assert.Equal(pair, PairOf(again));
        Assert.Equal(0, again.GetProperty("rater_labels").GetInt32());
        // Resending the withdrawn answer's key does not revive it; a new answer is stored.
        var resent = await AnswerAsync(person, campaign, pair, "k1", "left");
        Assert.Equal(HttpStatusCode.Conflict, resent.StatusCode);
        Assert.Contains("taken back", await resent.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await AnswerAsync(person, campaign, pair, "k2", "right")).StatusCode);
        await using (var db = _app.CreateDb())
        {
            var live = await db.Labels.AsNoTracking().SingleAsync(l => l.CampaignId == campaign);
            Assert.Equal(PreferenceChoice.Right, live.Choice);
            Assert.Equal(2, await db.Labels.IgnoreQueryFilters().CountAsync(l => l.CampaignId == campaign && l.ComparisonId == pair));
        }
        // The export, which rebuilds datasets, leaves the withdrawn answer out.
        var export = await _http.GetStringAsync($"/api/v1/campaigns/{campaign}/export?format=jsonl");
        var exported = export.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(l => l.TryGetProperty("left", out _)).ToList();
        Assert.Equal("right", Assert.Single(exported).GetProperty("label").GetString());

        // Undo takes back the last answer, once: a second undo in a row does not walk further back.
        Assert.Equal(HttpStatusCode.OK, (await AnswerAsync(person, campaign, PairOf(await NextAsync(person, campaign)), "k3", "left")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await person.PostAsync($"/api/v1/campaigns/{campaign}/labels/undo", null)).StatusCode);
        var twice = await person.PostAsync($"/api/v1/campaigns/{campaign}/labels/undo", null);
        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        Assert.Equal("application/problem+json", twice.Content.Headers.ContentType?.MediaType);
        Assert.Contains("once", await twice.Content.ReadAsStringAsync());
        Assert.False((await NextAsync(person, campaign)).GetProperty("can_undo").GetBoolean());
        await using (var db = _app.CreateDb())
            Assert.Equal(1, await db.Labels.CountAsync(l => l.CampaignId == campaign));
    }

    [Fact]
    public async Task A_returning_participant_still_needs_an_invite_in_an_invite_only_campaign_and_a_blank_id_names_nobody()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "closed", pairs: 4, labels: 4, rounds: 1, start: false,
            extra: new Dictionary<string, object?> { ["invite_only"] = true });
        var code = await StudioIdentities.JoinCodeAsync(_app, campaign);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{campaign}/invites") { Content = JsonContent.Create(new { count = 2 }) };
        request.Headers.Accept.ParseAdd("text/csv");
        var invites = (await (await _http.SendAsync(request)).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(r => System.Web.HttpUtility.ParseQueryString(new Uri(r.Split(',')[1]).Query)["invite"]!).ToList();

        Assert.Equal(HttpStatusCode.Redirect, (await StudioIdentities.JoinResponseAsync(StudioIdentities.NewClient(_app), code, invites[0], "PROLIFIC_PID=inv-1")).StatusCode);
        // The platform id alone, which anyone who saw it could send, does not open the campaign.
        // (The page offers no join form without an invite, so this is a hand-made post, as an attacker would send.)
        var forger = StudioIdentities.NewClient(_app);
        var token = StudioIdentities.HiddenFields(await forger.GetStringAsync("/account/login"))["__RequestVerificationToken"];
        var bare = await forger.PostAsync($"/join/{code}", new FormUrlEncodedContent([new("__RequestVerificationToken", token), new("PROLIFIC_PID", "inv-1")]));
        Assert.Contains("refused=inviterequired", bare.Headers.Location?.ToString());
        // With a new invite the participant gets their rater back, and that invite is used up by them.
        var back = await StudioIdentities.JoinResponseAsync(StudioIdentities.NewClient(_app), code, invites[1], "PROLIFIC_PID=inv-1");
        Assert.Equal($"/rate/{code}", back.Headers.Location?.ToString());
        await using (var db = _app.CreateDb())
        {
            var rater = await db.CampaignRaters.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.Kind == RaterKinds.Human);
            Assert.Equal("inv-1", rater.ParticipantId);
            Assert.All(await db.RaterInvites.AsNoTracking().Where(i => i.CampaignId == campaign).ToListAsync(), i => Assert.Equal(rater.RaterId, i.RaterId));
        }

        // A blank id is no participant: two visitors with one stay two raters.
        var open = await StudioTestApi.CreateCampaignAsync(_http, "open", pairs: 4, labels: 4, rounds: 1, start: false);
        var openCode = await StudioIdentities.JoinCodeAsync(_app, open);
        await JoinAsync(_app, openCode, "PROLIFIC_PID=%20%20&STUDY_ID=s");
        await JoinAsync(_app, openCode, "PROLIFIC_PID=%20%20&STUDY_ID=s");
        await using (var db = _app.CreateDb())
        {
            var people = await db.CampaignRaters.AsNoTracking().Where(r => r.CampaignId == open && r.Kind == RaterKinds.Human).ToListAsync();
            Assert.Equal(2, people.Count);
            Assert.All(people, p => Assert.Null(p.ParticipantId));
        }
    }

    [Fact]
    public async Task After_the_campaign_ends_the_completion_code_goes_only_to_raters_who_answered()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "ended", pairs: 4, labels: 8, rounds: 1,
            extra: new Dictionary<string, object?> { ["completion_code"] = "END-1" });
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        var code = await StudioIdentities.JoinCodeAsync(_app, campaign);
        var rater = await JoinAsync(_app, code, "PROLIFIC_PID=end-1");
        Assert.Equal(HttpStatusCode.OK, (await AnswerAsync(rater, campaign, PairOf(await NextAsync(rater, campaign)), "e1")).StatusCode);
        await using (var db = _app.CreateDb())
            await db.Campaigns.Where(c => c.Id == campaign).ExecuteUpdateAsync(u => u.SetProperty(c => c.Status, CampaignStatus.Completed));

        var took = await NextAsync(rater, campaign);
        Assert.Equal("finished", took.GetProperty("status").GetString());
        Assert.Equal("END-1", took.GetProperty("completion_code").GetString());
        var latecomer = await JoinAsync(_app, code, "PROLIFIC_PID=end-2");
        var none = await NextAsync(latecomer, campaign);
        Assert.Equal("finished", none.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, none.GetProperty("completion_code").ValueKind);
        await using (var db = _app.CreateDb())
        {
            Assert.NotNull((await db.CampaignRaters.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.ParticipantId == "end-1")).CompletedAt);
            Assert.Null((await db.CampaignRaters.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.ParticipantId == "end-2")).CompletedAt);
        }
    }

    [Fact]
    public async Task Rater_settings_are_read_and_changed_over_the_api_and_unusable_ones_are_refused_field_by_field()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "settings", pairs: 4, labels: 4, rounds: 1, start: false);
        var put = await _http.PutAsJsonAsync($"/api/v1/campaigns/{campaign}/rater-settings", new
        {
            instructions = "# Task\nChoose the **better** delivery.<script>alert(1)</script>",
            consent = "I agree.", labels_per_rater = 12, completion_code = "C0DE", completion_url = "https://app.prolific.com/submissions/complete?cc=C0DE",
            require_full_playback = true, max_raters = 40, invite_only = false,
        });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var read = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/rater-settings");
        Assert.Equal(12, read.GetProperty("labels_per_rater").GetInt32());
        Assert.True(read.GetProperty("require_full_playback").GetBoolean());
        Assert.Equal("https://app.prolific.com/submissions/complete?cc=C0DE", read.GetProperty("completion_url").GetString());
        await using (var db = _app.CreateDb())
        {
            var c = await db.Campaigns.AsNoTracking().SingleAsync(x => x.Id == campaign);
            Assert.Equal((12, "C0DE", 40), (c.LabelsPerRater!.Value, c.CompletionCode, c.MaxRaters!.Value));
        }
        // What a rater's browser gets: Markdown as HTML, the script tag gone.
        var html = PreferenceStudio.Web.Features.Study.SafeMarkdown.ToHtml(read.GetProperty("instructions").GetString());
        Assert.Contains("<strong>better</strong>", html);
        Assert.DoesNotContain("<script", html);

        var bad = await _http.PutAsJsonAsync($"/api/v1/campaigns/{campaign}/rater-settings", new
        {
            labels_per_rater = 0, completion_url = "javascript:alert(1)", completion_code = "two\nlines",
        });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("labels_per_rater", out _));
        Assert.True(errors.TryGetProperty("completion_url", out _));
        Assert.True(errors.TryGetProperty("completion_code", out _));
        // Refused means unchanged.
        var still = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/rater-settings");
        Assert.Equal(12, still.GetProperty("labels_per_rater").GetInt32());
    }

    /// <summary>One CSV line's fields (quoted fields may hold commas and doubled quotes).</summary>
    private static string[] SplitCsv(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else field.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(ch);
        }
        fields.Add(field.ToString());
        return fields.ToArray();
    }
}
