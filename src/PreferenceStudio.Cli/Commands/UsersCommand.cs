using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PreferenceStudio.Web.Features.Access;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio users add --email E --role admin|researcher</c> makes an account, reading its password from stdin (the
/// headless way to make the first admin); <c>studio users list</c> lists accounts.
/// </summary>
public static class UsersCommand
{
    public static Command Create()
    {
        var email = CliOptions.Required<string>("--email", "the account's email address");
        // Checked by UserAccounts, which names the roles it accepts.
        var role = CliOptions.Required<string>("--role", "admin or researcher", "admin|researcher");
        var addConnection = CliOptions.Connection();
        var add = new Command("add", "make an account; its password is the first line of stdin (or typed without echo)") { email, role, addConnection }
            .WithAction(async (parse, ct) =>
            {
                await using var services = await AccountServices.CreateAsync(parse.GetValue(addConnection));
                var address = parse.GetRequiredValue(email);
                var password = AccountServices.ReadSecret($"Password for {address}: ");
                var user = await services.GetRequiredService<UserAccounts>().CreateAsync(address, password, parse.GetRequiredValue(role));
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new { id = user.Id, email = user.Email, role = user.Role }));
                return 0;
            });
        var listConnection = CliOptions.Connection();
        var list = new Command("list", "list the accounts") { listConnection }
            .WithAction(async (parse, ct) =>
            {
                await using var services = await AccountServices.CreateAsync(parse.GetValue(listConnection));
                var users = await services.GetRequiredService<UserAccounts>().ListAsync();
                parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new
                {
                    users = users.Select(u => new { id = u.Id, email = u.Email, role = u.Role, locked = u.LockedUntil is not null }),
                }));
                return 0;
            });
        return new Command("users", "accounts of the web studio: add, list") { add, list };
    }
}
