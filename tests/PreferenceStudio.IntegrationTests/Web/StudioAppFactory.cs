using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Web.Features.Access;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// The real studio host on a real PostgreSQL database of its own and a data folder of its own (media, checkpoints).
/// Two factories over the same database and folder are the same studio before and after a restart. Its clients
/// (<c>CreateClient</c>) send the API token of an admin account the factory makes on first use, as a script of a
/// researcher would; tests of access itself make their own identities.
/// </summary>
/// <param name="settings">More configuration (e.g. "Studio:Import:MaxBytes"), applied after the defaults here.</param>
/// <param name="environment">The host environment; Development unless a test checks what another one does.</param>
public sealed class StudioAppFactory(string connectionString, string dataRoot, bool runWorker = true, bool kestrel = false,
    IReadOnlyDictionary<string, string>? settings = null, string environment = "Development")
    : WebApplicationFactory<Program>
{
    public string ConnectionString { get; } = connectionString;
    public string DataRoot { get; } = dataRoot;

    public static string NewDataRoot(string name)
    {
        var root = StudioPaths.FindRepositoryRoot() ?? Path.GetTempPath();
        var dir = Path.Combine(root, ".studio", "test-data", $"{name}-{Guid.NewGuid():N}"[..Math.Min(name.Length + 9, 60)]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseContentRoot(StudioPaths.FindRepositoryRoot()!);
        builder.UseEnvironment(environment);
        builder.UseSetting("ConnectionStrings:Studio", ConnectionString);
        builder.UseSetting("Studio:DataRoot", DataRoot);
        builder.UseSetting("Studio:SeedDemoCampaign", "false");
        builder.UseSetting("Studio:RunWorker", runWorker ? "true" : "false");
        builder.UseSetting("Studio:WorkerPollSeconds", "0.2");
        builder.UseSetting("Studio:Training:Threads", "1");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:LogLevel:PreferenceStudio", "Information");
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) builder.UseSetting(key, value);
        if (kestrel) this.UseKestrel(0);
    }

    public const string AdminEmail = "admin@studio.test";
    public const string AdminPassword = "correct horse battery";

    private string? _adminToken;
    private readonly Lock _adminLock = new();

    /// <summary>An API token with every scope for the admin account (made, with the account, on first use).</summary>
    public string AdminToken
    {
        get
        {
            lock (_adminLock)
            {
                if (_adminToken is not null) return _adminToken;
                _ = Services; // the host must be running to use its services
                var accounts = Service<UserAccounts>();
                var admin = accounts.ListAsync().GetAwaiter().GetResult().FirstOrDefault(u => u.Email == AdminEmail)
                    ?? accounts.CreateAsync(AdminEmail, AdminPassword, StudioRoles.Admin).GetAwaiter().GetResult();
                _adminToken = Service<ApiTokenService>().CreateAsync(admin.Id, "tests", ApiScopes.All, 30).GetAwaiter().GetResult().Secret;
                return _adminToken;
            }
        }
    }

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
    }

    /// <summary>A client with no identity at all (no token, no cookies kept).</summary>
    public HttpClient CreateAnonymousClient(bool allowAutoRedirect = false)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = allowAutoRedirect, HandleCookies = true });
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    public StudioDbContext CreateDb() => StudioDbContext.Create(ConnectionString);

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();
}
