using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Access;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio tokens create</c> makes an API token for an account and prints it once (only its hash is kept);
/// <c>list</c> and <c>revoke</c> manage an account's tokens.
/// </summary>
public static class TokensCommand
{
    private const string Usage = """
        usage: studio tokens create --email E --name N --scopes campaigns:read,campaigns:write,datasets:read,datasets:write [--expires-days 90] [--connection CS]
               studio tokens list --email E [--connection CS]
               studio tokens revoke --email E --id TOKEN_ID [--connection CS]
        """;

    public static Task<int> RunAsync(string[] args) => AccountServices.RunAsync(Usage, async () =>
    {
        if (args.Length == 0 || args[0] is "--help" or "-h") { Console.Error.WriteLine(Usage); return args.Length == 0 ? 2 : 0; }
        var cli = CliArgs.Parse(args[1..]);
        var command = args[0];
        switch (command)
        {
            case "create": cli.EnsureOnly("email", "name", "scopes", "expires-days", "connection"); break;
            case "list": cli.EnsureOnly("email", "connection"); break;
            case "revoke": cli.EnsureOnly("email", "id", "connection"); break;
            default: throw new CliUsageException($"Unknown tokens command '{command}'.");
        }
        var email = cli.Require("email");
        await using var services = await AccountServices.CreateAsync(cli);
        string userId;
        using (var scope = services.CreateScope())
        {
            var user = await scope.ServiceProvider.GetRequiredService<UserManager<StudioUser>>().FindByEmailAsync(email)
                ?? throw new CliUsageException($"No account has the email {email}; make it with `studio users add`.");
            userId = user.Id;
        }
        var tokens = services.GetRequiredService<ApiTokenService>();
        switch (command)
        {
            case "create":
            {
                var created = await tokens.CreateAsync(userId, cli.Require("name"), cli.Require("scopes").Split(','), cli.GetInt("expires-days", 90));
                Console.Error.WriteLine("The token is shown only now; send it as `Authorization: Bearer <token>`.");
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    token = created.Secret, id = created.Token.Id, name = created.Token.Name, scopes = created.Token.Scopes, expires_at = created.Token.ExpiresAt,
                }));
                return 0;
            }
            case "list":
            {
                var list = await tokens.ListAsync(userId);
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    tokens = list.Select(t => new { id = t.Id, name = t.Name, prefix = t.Prefix, scopes = t.Scopes, expires_at = t.ExpiresAt, revoked_at = t.RevokedAt, last_used_at = t.LastUsedAt }),
                }));
                return 0;
            }
            default:
            {
                if (!Guid.TryParse(cli.Require("id"), out var id)) throw new CliUsageException("--id is a token id as `studio tokens list` shows it.");
                if (!await tokens.RevokeAsync(userId, id)) throw new CliUsageException($"{email} has no token {id}.");
                Console.Out.WriteLine(JsonSerializer.Serialize(new { revoked = id }));
                return 0;
            }
        }
    });
}
