using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;

namespace PreferenceStudio.Web.Features.Access;

/// <summary>
/// Copies Data Protection keys that a studio from before keys moved into the database kept as files
/// (<c>&lt;data&gt;/keys/key-*.xml</c>) into the database, once each, so the sign-in and rater cookies they protect keep
/// working after the upgrade. The files are left where they are.
/// </summary>
public static class DataProtectionKeysImport
{
    public static async Task<int> FromFolderAsync(IDbContextFactory<StudioDbContext> dbFactory, string folder, ILogger logger, CancellationToken ct = default)
    {
        if (!Directory.Exists(folder)) return 0;
        var files = Directory.GetFiles(folder, "key-*.xml");
        if (files.Length == 0) return 0;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var known = (await db.DataProtectionKeys.Select(k => k.FriendlyName).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        int added = 0;
        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            // The file repository names a key's file after its friendly name, as the database repository stores it.
            string name = Path.GetFileNameWithoutExtension(file);
            if (known.Contains(name)) continue;
            db.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = name, Xml = await File.ReadAllTextAsync(file, ct) });
            added++;
        }
        if (added == 0) return 0;
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Copied {Count} Data Protection key(s) from {Folder} into the database", added, folder);
        return added;
    }
}
