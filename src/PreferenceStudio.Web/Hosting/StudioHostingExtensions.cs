using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Core.Media;
using PreferenceStudio.Learning;
using PreferenceStudio.Migrations;
using PreferenceStudio.Web.Components;
using PreferenceStudio.Web.Features.Campaigns;
using PreferenceStudio.Web.Features.Dataset;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Features.Media;
using PreferenceStudio.Web.Features.Rating;
using PreferenceStudio.Web.Features.Rounds;

namespace PreferenceStudio.Web.Hosting;

/// <summary>Wiring of the studio host: services, start-up preparation and endpoints.</summary>
public static class StudioHostingExtensions
{
    public static async Task AddStudioAsync(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var contentRoot = builder.Environment.ContentRootPath;
        services.AddOptions<StudioOptions>()
            .BindConfiguration(StudioOptions.Section)
            .PostConfigure(o => o.DataRoot = ResolveDataRoot(o.DataRoot, contentRoot))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var studio = builder.Configuration.GetSection(StudioOptions.Section).Get<StudioOptions>() ?? new StudioOptions();
        var dataRoot = ResolveDataRoot(studio.DataRoot, contentRoot);

        using var loggerFactory = LoggerFactory.Create(l => l.AddConsole());
        var startupLog = loggerFactory.CreateLogger("PreferenceStudio.Startup");

        // No connection string: run a PostgreSQL cluster of our own in the data folder (installed if missing).
        var connectionString = builder.Configuration.GetConnectionString("Studio");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = await LocalPostgres.EnsureRunningAsync(Path.Combine(dataRoot, "postgres"), studio.LocalDatabasePort, startupLog);
            builder.Configuration["ConnectionStrings:Studio"] = connectionString;
        }
        // Clips cannot be made without ffmpeg: bring it now (or say exactly what to install) rather than fail a round later.
        ExternalTools.Default.EnsureFfmpeg();

        services.AddDbContextFactory<StudioDbContext>(o => StudioDbContext.Configure(o, connectionString));
        services.AddHealthChecks().AddDbContextCheck<StudioDbContext>("database", tags: ["ready"]);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            // Status-code pages (an unknown route, a wrong method) get a detail that says where to look.
            if (context.ProblemDetails.Detail is null && context.ProblemDetails.Status is 404 or 405)
                context.ProblemDetails.Detail = $"No endpoint answers {context.HttpContext.Request.Method} {context.HttpContext.Request.Path}. The API is listed at /openapi/v1.json.";
        });
        services.AddExceptionHandler<StudioExceptionHandler>();
        services.AddOpenApi();
        services.AddSignalR();
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.ConfigureHttpJsonOptions(o =>
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower)));

        services.AddSingleton<CampaignEvents>();
        services.AddSingleton<WorkerSignal>();
        services.AddSingleton<CampaignService>();
        services.AddSingleton<RatingService>();
        services.AddSingleton<PersonalQueries>();
        services.AddSingleton<PreferenceStudio.Web.Features.Hierarchy.FactorRankingStore>();
        services.AddSingleton<PreferenceStudio.Web.Features.Hierarchy.RoundFactors>();
        services.AddSingleton<DatasetExporter>();
        services.AddSingleton<DatasetImporter>();
        services.AddSingleton(sp => new ClipEncoder(sp.GetRequiredService<IOptions<StudioOptions>>().Value.MediaPath));
        services.AddSingleton(sp =>
        {
            var training = sp.GetRequiredService<IOptions<StudioOptions>>().Value.Training;
            return new TorchTrainingThread(new TorchOptions { Device = training.Device, Threads = training.Threads });
        });
        services.AddSingleton<RoundPreparer>();
        services.AddSingleton<RoundTrainer>();
        services.AddSingleton<RoundPolicyTrainer>();
        if (studio.RunWorker) services.AddHostedService<CampaignWorker>();
    }

    /// <summary>The configured data folder, relative to the content root; by default the project-local ".studio".</summary>
    private static string ResolveDataRoot(string configured, string contentRoot) =>
        string.IsNullOrWhiteSpace(configured) ? Path.Combine(contentRoot, ".studio") : Path.GetFullPath(configured, contentRoot);

    /// <summary>Applies migrations (when configured) and seeds the demo campaign before the first request.</summary>
    public static async Task PrepareStudioAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<StudioOptions>>().Value;
        Directory.CreateDirectory(options.MediaPath);
        Directory.CreateDirectory(options.CheckpointPath);
        var connectionString = app.Configuration.GetConnectionString("Studio")!;
        if (options.ApplyMigrationsOnStart)
            await StudioDatabase.MigrateAsync(connectionString, app.Logger);
        if (options.SeedDemoCampaign)
            await DemoCampaign.EnsureAsync(app.Services);
    }

    public static void MapStudio(this WebApplication app)
    {
        app.UseExceptionHandler();
        // API callers get ProblemDetails for a bare status code; people in a browser get the studio's own page.
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/api"), api => api.UseStatusCodePages());
        app.UseWhen(c => !c.Request.Path.StartsWithSegments("/api"),
            pages => pages.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true));
        // Routing after the status-code pages, so a re-executed request is routed again to the not-found page.
        app.UseRouting();
        app.UseAntiforgery();
        app.MapStaticAssets();

        app.MapHealthChecks("/health", new() { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains("ready") });
        app.MapOpenApi();

        var api = app.MapGroup("/api/v1");
        api.MapCampaignsApi();
        api.MapRatingApi();
        api.MapDatasetApi();
        app.MapMedia();
        app.MapJoin();
        app.MapHub<StudioHub>(StudioHub.Path);

        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
    }
}
