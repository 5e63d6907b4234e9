using System.Net;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.IntegrationTests.Web;

namespace PreferenceStudio.IntegrationTests.Access;

/// <summary>A researcher's own account through its forms: changing the password and signing out, each with its antiforgery token.</summary>
public sealed class AccountTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task A_changed_password_replaces_the_old_one_and_signing_out_ends_the_session()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("account"), StudioAppFactory.NewDataRoot("account"), runWorker: false);
        var account = await StudioIdentities.AccountAsync(app, "ada@account.test");
        var browser = account.Browser;

        // A wrong current password changes nothing.
        var form = StudioIdentities.HiddenFields(await browser.GetStringAsync("/account/password"));
        form["Input.Current"] = "not my password";
        form["Input.New"] = form["Input.Confirm"] = "an even longer passphrase";
        var wrong = await (await browser.PostAsync("/account/password", new FormUrlEncodedContent(form))).Content.ReadAsStringAsync();
        Assert.Contains("The current password is wrong.", wrong);

        form = StudioIdentities.HiddenFields(await browser.GetStringAsync("/account/password"));
        form["Input.Current"] = StudioIdentities.Password;
        form["Input.New"] = form["Input.Confirm"] = "an even longer passphrase";
        var changed = await (await browser.PostAsync("/account/password", new FormUrlEncodedContent(form))).Content.ReadAsStringAsync();
        Assert.Contains("Your password was changed.", changed);
        // This browser stays signed in; the old password no longer signs anyone in, the new one does.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin")).StatusCode);
        Assert.Contains("Wrong email or password", await (await StudioIdentities.PostSignInAsync(StudioIdentities.NewClient(app), account.Email, StudioIdentities.Password)).Content.ReadAsStringAsync());
        await StudioIdentities.SignInAsync(StudioIdentities.NewClient(app), account.Email, "an even longer passphrase");

        // Signing out needs the form's antiforgery token: without it nothing happens.
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.PostAsync("/account/logout", new FormUrlEncodedContent([]))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/admin")).StatusCode);
        var page = StudioIdentities.HiddenFields(await browser.GetStringAsync("/admin"));
        var signOut = await browser.PostAsync("/account/logout", new FormUrlEncodedContent(page.Where(f => f.Key == "__RequestVerificationToken")));
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        var after = await browser.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Contains("/account/login", after.Headers.Location?.ToString());
    }
}
