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
    private const string Usage = """
        usage: studio users add --email E --role admin|researcher [--connection CS]    (password: first line of stdin, or typed)
               studio users list [--connection CS]
        """;

    public static Task<int> RunAsync(string[] args) => AccountServices.RunAsync(Usage, async () =>
    {
        if (args.Length == 0 || args[0] is "--help" or "-h") { Console.Error.WriteLine(Usage); return args.Length == 0 ? 2 : 0; }
        var cli = CliArgs.Parse(args[1..]);
        switch (args[0])
        {
            case "add":
            {
                cli.EnsureOnly("email", "role", "connection");
                var email = cli.Require("email");
                var role = cli.Require("role");
                await using var services = await AccountServices.CreateAsync(cli);
                var password = AccountServices.ReadSecret($"Password for {email}: ");
                var user = await services.GetRequiredService<UserAccounts>().CreateAsync(email, password, role);
                Console.Out.WriteLine(JsonSerializer.Serialize(new { id = user.Id, email = user.Email, role = user.Role }));
                return 0;
            }
            case "list":
            {
                cli.EnsureOnly("connection");
                await using var services = await AccountServices.CreateAsync(cli);
                var users = await services.GetRequiredService<UserAccounts>().ListAsync();
                Console.Out.WriteLine(JsonSerializer.Serialize(new { users = users.Select(u => new { id = u.Id, email = u.Email, role = u.Role, locked = u.LockedUntil is not null }) }));
                return 0;
            }
            default:
                throw new CliUsageException($"Unknown users command '{args[0]}'.");
        }
    });
}
