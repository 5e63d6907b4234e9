using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.IntegrationTests.Web;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Features.Members;

namespace PreferenceStudio.IntegrationTests.Access;

/// <summary>
/// Identities made the way the studio makes them: accounts through Identity (signed in through the real sign-in
/// form, with its antiforgery token), API tokens, campaign memberships, and raters who opened a join link.
/// </summary>
public static partial class StudioIdentities
{
    public const string Password = "a long enough passphrase";

    /// <summary>A client that keeps cookies and does not follow redirects, with no identity yet.</summary>
    public static HttpClient NewClient(StudioAppFactory app) => app.CreateAnonymousClient(allowAutoRedirect: false);

    /// <summary>An account as a browser and a script hold it: a client signed in through the sign-in form, and one sending an API token.</summary>
    public sealed record Account(string Email, string UserId, string Token, HttpClient Browser, HttpClient Api);

    /// <summary>Makes an account with <paramref name="role"/> and an API token with <paramref name="scopes"/> (default: every scope).</summary>
    public static async Task<Account> AccountAsync(StudioAppFactory app, string email, string role = StudioRoles.Researcher, IEnumerable<string>? scopes = null)
    {
        var user = await app.Service<UserAccounts>().CreateAsync(email, Password, role);
        var token = (await app.Service<ApiTokenService>().CreateAsync(user.Id, "tests", scopes ?? ApiScopes.All, 7)).Secret;
        var browser = NewClient(app);
        await SignInAsync(browser, email, Password);
        var api = NewClient(app);
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return new Account(email, user.Id, token, browser, api);
    }

    /// <summary>Posts the sign-in form as a browser does (its hidden antiforgery and handler fields included).</summary>
    public static async Task<HttpResponseMessage> PostSignInAsync(HttpClient client, string email, string password)
    {
        var form = await client.GetStringAsync("/account/login");
        var fields = HiddenFields(form);
        fields["Input.Email"] = email;
        fields["Input.Password"] = password;
        return await client.PostAsync("/account/login", new FormUrlEncodedContent(fields));
    }

    public static async Task SignInAsync(HttpClient client, string email, string password)
    {
        var response = await PostSignInAsync(client, email, password);
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"sign-in of {email} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.DoesNotContain("/account/login", response.Headers.Location?.ToString() ?? "");
    }

    /// <summary>The page's hidden form fields by name (the first of a repeated name: every form carries the same antiforgery token).</summary>
    public static Dictionary<string, string> HiddenFields(string html) =>
        HiddenInput().Matches(html).GroupBy(m => WebUtility.HtmlDecode(m.Groups["name"].Value))
            .ToDictionary(g => g.Key, g => WebUtility.HtmlDecode(g.First().Groups["value"].Value));

    [GeneratedRegex("<input[^>]*type=\"hidden\"[^>]*name=\"(?<name>[^\"]+)\"[^>]*value=\"(?<value>[^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex HiddenInput();

    /// <summary>A person who opened the campaign's join link and pressed Join: a fresh client holding the rater cookie the server issued.</summary>
    public static async Task<HttpClient> JoinAsync(StudioAppFactory app, string joinCode)
    {
        var client = NewClient(app);
        var response = await JoinResponseAsync(client, joinCode);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/rate/{joinCode}", response.Headers.Location?.ToString());
        return client;
    }

    /// <summary>
    /// What a browser does with a join link: opens it (which changes nothing and leads to the rating page), then posts
    /// that page's join form (with its antiforgery token, and the invite when the link carried one).
    /// </summary>
    /// <param name="query">More of the link's query string, e.g. a recruiting platform's "PROLIFIC_PID=...&amp;STUDY_ID=...".</param>
    public static async Task<HttpResponseMessage> JoinResponseAsync(HttpClient client, string joinCode, string? invite = null, string? query = null)
    {
        var parameters = new[] { invite is null ? null : $"invite={Uri.EscapeDataString(invite)}", query }.Where(p => !string.IsNullOrEmpty(p)).ToList();
        var opened = await client.GetAsync($"/join/{joinCode}" + (parameters.Count == 0 ? "" : "?" + string.Join("&", parameters)));
        Assert.Equal(HttpStatusCode.Redirect, opened.StatusCode);
        var page = await client.GetStringAsync(opened.Headers.Location!.ToString());
        var form = HiddenFields(page);
        Assert.True(form.ContainsKey("__RequestVerificationToken"), "the rating page has no join form: " + page);
        if (invite is not null) Assert.Equal(invite, form["invite"]);
        return await client.PostAsync($"/join/{joinCode}", new FormUrlEncodedContent(form));
    }

    public static Task AddMemberAsync(StudioAppFactory app, Guid campaign, string email, CampaignRole role) =>
        app.Service<CampaignMembers>().SetAsync(campaign, new MemberRequest(email, role.ToString()));

    public static async Task<string> JoinCodeAsync(StudioAppFactory app, Guid campaign)
    {
        await using var db = app.CreateDb();
        return db.Campaigns.Single(c => c.Id == campaign).JoinCode;
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
