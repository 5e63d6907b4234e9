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

    /// <summary>An account with <paramref name="role"/>, signed in on a fresh client that also sends an API token with every scope.</summary>
    public static async Task<(HttpClient Client, string UserId, string Token)> ResearcherAsync(StudioAppFactory app, string email, string role = StudioRoles.Researcher)
    {
        var user = await app.Service<UserAccounts>().CreateAsync(email, Password, role);
        var token = (await app.Service<ApiTokenService>().CreateAsync(user.Id, "matrix", ApiScopes.All, 7)).Secret;
        var client = NewClient(app);
        await SignInAsync(client, email, Password);
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return (client, user.Id, token);
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

    public static Dictionary<string, string> HiddenFields(string html) =>
        HiddenInput().Matches(html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));

    [GeneratedRegex("<input[^>]*type=\"hidden\"[^>]*name=\"(?<name>[^\"]+)\"[^>]*value=\"(?<value>[^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex HiddenInput();

    /// <summary>A person who opened the campaign's join link: a fresh client holding the rater cookie the server issued.</summary>
    public static async Task<HttpClient> JoinAsync(StudioAppFactory app, string joinCode)
    {
        var client = NewClient(app);
        var response = await client.GetAsync($"/join/{joinCode}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/rate/{joinCode}", response.Headers.Location?.ToString());
        return client;
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
