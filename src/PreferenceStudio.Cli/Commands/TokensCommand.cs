using System.CommandLine;
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
    public static Command Create()
    {
        var create = new Command("create", "make an API token and print it once (send it as `Authorization: Bearer <token>`)");
        var createEmail = Email(create);
        var name = CliOptions.Required<string>("--name", "what the token is for, e.g. nightly-export");
        // Checked by ApiTokenService, which names the scopes it knows.
        var scopes = CliOptions.Required<string>("--scopes", "comma-separated: campaigns:read, campaigns:write, datasets:read, datasets:write", "S,S");
        var expires = CliOptions.With("--expires-days", 90, "days until the token stops working");
        var createConnection = Connection(create);
        create.Add(name);
        create.Add(scopes);
        create.Add(expires);
        create.SetAction(async (parse, ct) =>
        {
            var (services, userId) = await AccountAsync(parse, createEmail, createConnection);
            await using (services)
            {
                var created = await services.GetRequiredService<ApiTokenService>().CreateAsync(userId, parse.GetRequiredValue(name),
                    parse.GetRequiredValue(scopes).Split(','), parse.GetValue(expires));
                Console.Error.WriteLine("The token is shown only now; send it as `Authorization: Bearer <token>`.");
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new
                {
                    token = created.Secret, id = created.Token.Id, name = created.Token.Name, scopes = created.Token.Scopes, expires_at = created.Token.ExpiresAt,
                }));
                return 0;
            }
        });

        var list = new Command("list", "list an account's tokens (never the secrets)");
        var listEmail = Email(list);
        var listConnection = Connection(list);
        list.SetAction(async (parse, ct) =>
        {
            var (services, userId) = await AccountAsync(parse, listEmail, listConnection);
            await using (services)
            {
                var tokens = await services.GetRequiredService<ApiTokenService>().ListAsync(userId);
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new
                {
                    tokens = tokens.Select(t => new { id = t.Id, name = t.Name, prefix = t.Prefix, scopes = t.Scopes, expires_at = t.ExpiresAt, revoked_at = t.RevokedAt, last_used_at = t.LastUsedAt }),
                }));
                return 0;
            }
        });

        var revoke = new Command("revoke", "revoke one of an account's tokens");
        var revokeEmail = Email(revoke);
        var id = CliOptions.Required<Guid>("--id", "the token's id, as `studio tokens list` shows it", "TOKEN_ID");
        var revokeConnection = Connection(revoke);
        revoke.Add(id);
        revoke.SetAction(async (parse, ct) =>
        {
            var (services, userId) = await AccountAsync(parse, revokeEmail, revokeConnection);
            await using (services)
            {
                var tokenId = parse.GetValue(id);
                if (!await services.GetRequiredService<ApiTokenService>().RevokeAsync(userId, tokenId))
                    throw new CliUsageException($"{parse.GetValue(revokeEmail)} has no token {tokenId}.");
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new { revoked = tokenId }));
                return 0;
            }
        });
        return new Command("tokens", "API tokens of an account: create, list, revoke") { create, list, revoke };
    }

    private static Option<string> Email(Command command)
    {
        var email = CliOptions.Required<string>("--email", "the account's email address");
        command.Add(email);
        return email;
    }

    private static Option<string?> Connection(Command command)
    {
        var connection = CliOptions.Connection();
        command.Add(connection);
        return connection;
    }

    private static async Task<(ServiceProvider Services, string UserId)> AccountAsync(ParseResult parse, Option<string> email, Option<string?> connection)
    {
        var services = await AccountServices.CreateAsync(parse.GetValue(connection));
        var address = parse.GetRequiredValue(email);
        using var scope = services.CreateScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<StudioUser>>().FindByEmailAsync(address);
        if (user is null)
        {
            await services.DisposeAsync();
            throw new CliUsageException($"No account has the email {address}; make it with `studio users add`.");
        }
        return (services, user.Id);
    }
}
