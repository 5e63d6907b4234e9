using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.IntegrationTests.Web;

namespace PreferenceStudio.IntegrationTests.Access;

/// <summary>
/// The keys that protect sign-in and rater cookies live in PostgreSQL: any node reads what any other protected, and
/// keys an older studio kept as files are carried into the database so its cookies stay valid.
/// </summary>
public sealed class DataProtectionKeysTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const string Purpose = "cookie-test";

    [Fact]
    public async Task What_one_node_protects_another_node_with_its_own_data_folder_reads()
    {
        var cs = await postgres.CreateDatabaseAsync("dpkeys");
        await using var a = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("dpkeys-a"), runWorker: false);
        await using var b = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("dpkeys-b"), runWorker: false);
        string secret = a.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Protect("rater p-1234");
        Assert.Equal("rater p-1234", b.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Unprotect(secret));
        await using var db = a.CreateDb();
        Assert.Equal(1, await db.DataProtectionKeys.CountAsync());
    }

    [Fact]
    public async Task Keys_an_older_studio_kept_as_files_are_carried_into_the_database_once()
    {
        var cs = await postgres.CreateDatabaseAsync("dpimport");
        var dataRoot = StudioAppFactory.NewDataRoot("dpimport");
        // As the studio did before keys moved into the database.
        var keys = Directory.CreateDirectory(Path.Combine(dataRoot, "keys"));
        string secret = DataProtectionProvider.Create(keys, o => o.SetApplicationName("PreferenceStudio")).CreateProtector(Purpose).Protect("old cookie");
        Assert.Single(keys.GetFiles("key-*.xml"));

        await using (var studio = new StudioAppFactory(cs, dataRoot, runWorker: false))
            Assert.Equal("old cookie", studio.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Unprotect(secret));
        await using (var again = new StudioAppFactory(cs, dataRoot, runWorker: false))
        {
            Assert.Equal("old cookie", again.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).Unprotect(secret));
            await using var db = again.CreateDb();
            Assert.Equal(1, await db.DataProtectionKeys.CountAsync()); // not copied twice
        }
    }
}
