using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Core.Media;
using PreferenceStudio.Learning;
using PreferenceStudio.Migrations;
using PreferenceStudio.Web.Components;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Features.Account;
using PreferenceStudio.Web.Features.Campaigns;
using PreferenceStudio.Web.Features.Dataset;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Features.Media;
using PreferenceStudio.Web.Features.Members;
using PreferenceStudio.Web.Features.Raters;
using PreferenceStudio.Web.Features.Quality;
using PreferenceStudio.Web.Features.Rating;
using PreferenceStudio.Web.Features.Rounds;
using PreferenceStudio.Web.Hosting.LocalDatabase;
using Scalar.AspNetCore;

namespace PreferenceStudio.Web.Hosting;

/// <summary>Wiring of the studio host: services, start-up preparation and endpoints.</summary>
public static class StudioHostingExtensions
{
    public static async Task AddStudioAsync(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var contentRoot = builder.Environment.ContentRootPath;
        bool development = builder.Environment.IsDevelopment();
        services.AddOptions<StudioOptions>()
            .BindConfiguration(StudioOptions.Section)
            .PostConfigure(o => o.DataRoot = ResolveDataRoot(o.DataRoot, contentRoot))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var studio = builder.Configuration.GetSection(StudioOptions.Section).Get<StudioOptions>() ?? new StudioOptions();
        var dataRoot = ResolveDataRoot(studio.DataRoot, contentRoot);
        // Installing packages is for a developer's machine; a production host is provisioned (the Docker image brings ffmpeg).
        bool install = studio.InstallMissingTools ?? development;

        using var loggerFactory = LoggerFactory.Create(l => l.AddConsole());
        var startupLog = loggerFactory.CreateLogger("PreferenceStudio.Startup");

        // No connection string: run a PostgreSQL cluster of our own in the data folder (installed if missing and allowed).
        var connectionString = builder.Configuration.GetConnectionString("Studio");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = await LocalPostgres.EnsureRunningAsync(
                new LocalPostgresOptions(Path.Combine(dataRoot, "postgres"), studio.LocalDatabasePort) { AllowInstall = install }, startupLog);
            builder.Configuration["ConnectionStrings:Studio"] = connectionString;
        }
        // Clips cannot be made without ffmpeg: bring it now (or say exactly what to install) rather than fail a round later.
        ExternalTools.Default.EnsureFfmpeg(allowInstall: install);

        services.AddDbContextFactory<StudioDbContext>(o => StudioDbContext.Configure(o, connectionString));
        services.AddDbContext<DataProtectionKeysContext>(o => DataProtectionKeysContext.Configure(o, connectionString));
        var startup = new StudioStartup();
        var database = new DatabaseHealthCheck(connectionString);
        services.AddSingleton(startup);
        services.AddSingleton(database);
        services.AddHealthChecks()
            .AddCheck("database", database, tags: ["ready"])
            .AddCheck("startup", startup, tags: ["ready"]);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            // Status-code pages (an unknown route, a wrong method) get a detail that says where to look.
            var request = context.HttpContext.Request;
            if (context.ProblemDetails.Detail is null && context.ProblemDetails.Status is 404 or 405)
                context.ProblemDetails.Detail = $"No endpoint answers {request.Method} {request.Path}. The API is described in README.md (and at /openapi/v1.json where the OpenAPI document is served).";
            // Routing refuses a body type an endpoint does not declare before the endpoint runs.
            if (context.ProblemDetails.Detail is null && context.ProblemDetails.Status is 415)
                context.ProblemDetails.Detail = $"{request.Method} {request.Path} does not take a body of type '{request.ContentType ?? "none"}': "
                    + $"JSON endpoints take application/json, the import takes JSON Lines as {DatasetApi.ImportContentTypes[0]}.";
        });
        services.AddExceptionHandler<StudioExceptionHandler>();
        services.AddOpenApi(o => StudioOpenApi.Configure(o));
        services.AddSignalR();
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.ConfigureHttpJsonOptions(o =>
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower)));

        services.AddStudioAccess(studio);
        services.Configure<ForwardedHeadersOptions>(o => ConfigureForwardedHeaders(o, studio.Security));
        services.AddHsts(o => o.MaxAge = TimeSpan.FromDays(365));

        services.AddSingleton(sp => new ClusterNotifier(connectionString, sp.GetRequiredService<ILogger<ClusterNotifier>>()));
        services.AddHostedService<ClusterListener>();
        services.AddSingleton<CampaignEvents>();
        services.AddSingleton<WorkerSignal>();
        services.AddSingleton<CampaignService>();
        services.AddSingleton<QualityService>();
        services.AddSingleton<RatingService>();
        services.AddSingleton<RoundCloser>();
        services.AddHostedService<RoundCloserSweep>();
        services.AddSingleton<PersonalQueries>();
        services.AddSingleton<PreferenceStudio.Web.Features.Hierarchy.FactorRankingStore>();
        services.AddSingleton<PreferenceStudio.Web.Features.Hierarchy.RoundFactors>();
        services.AddSingleton<DatasetExporter>();
        services.AddSingleton<DatasetTables>();
        services.AddSingleton<DatasetBundle>();
        services.AddSingleton<DatasetImporter>();
        services.AddSingleton<PreferenceStudio.Web.Features.Study.StudyTexts>();
        services.AddSingleton(sp => new ClipEncoder(sp.GetRequiredService<IOptions<StudioOptions>>().Value.MediaPath));
        services.AddSingleton<PreferenceStudio.Core.Media.Stores.IMediaStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<StudioOptions>>().Value;
            return o.Media.Store == "s3"
                ? new PreferenceStudio.Core.Media.Stores.S3MediaStore(o.Media.S3, o.DataRoot)
                : new PreferenceStudio.Core.Media.Stores.FolderMediaStore();
        });
        services.AddSingleton(sp =>
        {
            var training = sp.GetRequiredService<IOptions<StudioOptions>>().Value.Training;
            return new TorchTrainingThread(new TorchOptions { Device = training.Device, Threads = training.Threads });
        });
        // Rater-facing inference (ranking a rater's next pairs) has its own torch thread, so a training run never
        // delays a rater's next pair. Threads 0: libtorch's intra-op pool is per process, set by the training thread.
        services.AddKeyedSingleton(PersonalQueries.InferenceThread, (sp, _) =>
            new TorchTrainingThread(new TorchOptions { Device = sp.GetRequiredService<IOptions<StudioOptions>>().Value.Training.Device }, "torch-inference"));
        services.AddSingleton<RoundPreparer>();
        services.AddSingleton<RoundTrainer>();
        services.AddSingleton<RoundPolicyTrainer>();
        if (studio.RunsWorker) services.AddHostedService<CampaignWorker>();
    }

    /// <summary>The configured data folder, relative to the content root; by default the project-local ".studio".</summary>
    private static string ResolveDataRoot(string configured, string contentRoot) =>
        string.IsNullOrWhiteSpace(configured) ? Path.Combine(contentRoot, ".studio") : Path.GetFullPath(configured, contentRoot);

    private static void ConfigureForwardedHeaders(ForwardedHeadersOptions o, SecurityOptions security)
    {
        o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
        foreach (var proxy in security.KnownProxies) o.KnownProxies.Add(IPAddress.Parse(proxy));
        foreach (var network in security.KnownNetworks) o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
    }

    /// <summary>
    /// Applies migrations (when configured), makes sure the account roles exist, seeds the demo campaign, and on a
    /// studio without an admin prints the one-time set-up link once the server listens.
    /// </summary>
    public static async Task PrepareStudioAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<StudioOptions>>().Value;
        Directory.CreateDirectory(options.MediaPath);
        Directory.CreateDirectory(options.CheckpointPath);
        var startup = app.Services.GetRequiredService<StudioStartup>();
        var connectionString = app.Configuration.GetConnectionString("Studio")!;
        // The database out of reach at start (a node started before it, or during its restart): the node starts anyway,
        // says why it is not ready on /health/ready, and finishes preparing when the database answers.
        if (await app.Services.GetRequiredService<DatabaseHealthCheck>().CheckHealthAsync(new()) is { Status: not Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy } down)
        {
            startup.Waiting(down.Description!);
            app.Logger.LogWarning("{Reason} The studio starts, and prepares the database once it answers.", down.Description);
            _ = Task.Run(() => PrepareWhenReachableAsync(app, startup, connectionString, options));
            return;
        }
        await PrepareDatabaseAsync(app, connectionString, options);
        startup.Prepared();
    }

    private static async Task PrepareWhenReachableAsync(WebApplication app, StudioStartup startup, string connectionString, StudioOptions options)
    {
        var stopping = app.Lifetime.ApplicationStopping;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stopping);
                var check = await app.Services.GetRequiredService<DatabaseHealthCheck>().CheckHealthAsync(new(), stopping);
                if (check.Status != Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy)
                {
                    startup.Waiting(check.Description!);
                    continue;
                }
                await PrepareDatabaseAsync(app, connectionString, options);
                startup.Prepared();
                app.Logger.LogInformation("The database answers; the studio is ready");
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                startup.Waiting($"Preparing the database failed: {ex.Message}");
                app.Logger.LogError(ex, "Preparing the database failed; trying again");
            }
        }
    }

    private static async Task PrepareDatabaseAsync(WebApplication app, string connectionString, StudioOptions options)
    {
        if (options.ApplyMigrationsOnStart ?? app.Environment.IsDevelopment())
            await StudioDatabase.MigrateAsync(connectionString, app.Logger);
        else if (await StudioDatabase.PendingMigrationsAsync(connectionString) is { Count: > 0 } pending)
            throw new InvalidOperationException(
                $"The database lacks {pending.Count} migration(s) ({string.Join(", ", pending)}). Apply them with `studio migrate` "
                + "(or the SQL of `studio migrate --script`), or set Studio:ApplyMigrationsOnStart=true.");
        await DataProtectionKeysImport.FromFolderAsync(app.Services.GetRequiredService<IDbContextFactory<StudioDbContext>>(), options.KeysPath,
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(nameof(DataProtectionKeysImport)));
        using (var scope = app.Services.CreateScope())
            await UserAccounts.EnsureRolesAsync(scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>());
        if (options.SeedDemoCampaign)
            await DemoCampaign.EnsureAsync(app.Services);
        if (await app.Services.GetRequiredService<FirstAdminSetup>().NewTokenIfNoAdminAsync() is { } token)
            app.Lifetime.ApplicationStarted.Register(() => PrintSetupLink(app, options, token));
    }

    private static void PrintSetupLink(WebApplication app, StudioOptions options, string token)
    {
        var address = options.PublicUrl is { Length: > 0 } url ? url.TrimEnd('/')
            : app.Urls.Select(u => u.Replace("://0.0.0.0", "://127.0.0.1").Replace("://[::]", "://127.0.0.1").Replace("://+", "://127.0.0.1").Replace("://*", "://127.0.0.1"))
                .OrderBy(u => u.StartsWith("https", StringComparison.Ordinal) ? 0 : 1).FirstOrDefault() ?? "http://127.0.0.1:5000";
        // The console only, not the log: the link is a secret that makes whoever opens it the administrator.
        Console.Out.WriteLine();
        Console.Out.WriteLine("PreferenceStudio has no administrator yet. Open this one-time link to choose the admin's password:");
        Console.Out.WriteLine($"  {address}{FirstAdminSetup.Path}?token={token}");
        Console.Out.WriteLine("(or run `studio users add --email you@example.org --role admin` with the password on stdin)");
        Console.Out.WriteLine();
        Console.Out.Flush();
    }

    /// <summary>Where Scalar renders the OpenAPI document (with the document, only where it is served).</summary>
    public const string ApiReferencePath = "/api/reference";

    public static void MapStudio(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<StudioOptions>>().Value;
        if (options.Security.ForwardedHeaders) app.UseForwardedHeaders();
        app.UseStudioSecurityHeaders();
        app.UseExceptionHandler();
        if (options.Security.HttpsRedirection ?? !app.Environment.IsDevelopment())
        {
            app.UseHsts();
            app.UseHttpsRedirection();
        }
        // API callers get ProblemDetails for a bare status code; people in a browser get the studio's own page.
        app.UseWhen(c => StudioAuthorizationResultHandler.IsMachineFacing(c.Request.Path), api => api.UseStatusCodePages());
        app.UseWhen(c => !StudioAuthorizationResultHandler.IsMachineFacing(c.Request.Path),
            pages => pages.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true));
        // Routing after the status-code pages, so a re-executed request is routed again to the not-found page.
        app.UseRouting();
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.MapStaticAssets().AllowAnonymous();

        app.MapHealthChecks("/health", new() { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = StudioStartup.WriteReportAsync }).AllowAnonymous();
        // A worker node runs jobs only: no pages, API or hub for anyone to reach on it.
        if (!options.ServesWeb) return;
        if (options.ServeOpenApi ?? app.Environment.IsDevelopment())
        {
            app.MapOpenApi().AllowAnonymous();
            // The API reference renders that document. Scalar's script comes from the package itself (no CDN, no
            // web fonts); its inline start-up script carries a fresh nonce per request, which SecurityHeaders puts
            // into this response's Content-Security-Policy.
            app.MapScalarApiReference(ApiReferencePath, o => o
                    .WithTitle("PreferenceStudio API")
                    .WithOpenApiRoutePattern("/openapi/{documentName}.json")
                    .DisableDefaultFonts()
                    .WithNonce())
                .AllowAnonymous();
        }

        var api = app.MapGroup("/api/v1");
        api.MapCampaignsApi();
        api.MapRatingApi();
        api.MapDatasetApi();
        api.MapMembersApi();
        api.MapRatersApi();
        api.MapQualityApi();
        app.MapMedia();
        app.MapJoin();
        app.MapAccountEndpoints();
        app.MapHub<StudioHub>(StudioHub.Path);

        app.MapRazorComponents<App>().AddInteractiveServerRenderMode()
            // The circuit's own endpoints (the Blazor hub, blazor.web.js) serve raters, who have no account; each page
            // states who may open it with [Authorize] or [AllowAnonymous].
            .Add(e =>
            {
                if (!e.Metadata.OfType<ComponentTypeMetadata>().Any()) e.Metadata.Add(new AllowAnonymousAttribute());
            });
    }
}
