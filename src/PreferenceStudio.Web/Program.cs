using PreferenceStudio.Web.Hosting;

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    // The user's layout keeps appsettings.json and wwwroot/ at the repository root, not in this project.
    ContentRootPath = StudioContentRoot.Find(),
});

await builder.AddStudioAsync();

var app = builder.Build();
await app.PrepareStudioAsync();
app.MapStudio();
app.Run();

/// <summary>Entry point; public so integration tests can host the app with WebApplicationFactory.</summary>
public partial class Program;
