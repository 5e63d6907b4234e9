using System.Text.RegularExpressions;
using PreferenceStudio.Core.Infrastructure;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace PreferenceStudio.Tests.Deployment;

/// <summary>
/// docker/compose.yaml cannot be run here (no Docker engine): this reads it, with YAML's merge keys resolved as
/// Compose resolves them, and checks the scaled profile's topology against what the studio needs of a cluster.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly string Docker = Path.Combine(StudioPaths.FindRepositoryRoot()!, "docker");

    private static Dictionary<string, Dictionary<object, object>> Services()
    {
        using var reader = new StringReader(File.ReadAllText(Path.Combine(Docker, "compose.yaml")));
        var compose = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(reader)));
        return ((Dictionary<object, object>)compose["services"]).ToDictionary(s => (string)s.Key, s => (Dictionary<object, object>)s.Value);
    }

    private static IEnumerable<string> List(Dictionary<object, object> service, string key) =>
        service.TryGetValue(key, out var value) ? ((List<object>)value).Cast<string>() : [];

    private static string? Setting(Dictionary<object, object> service, string name) =>
        service.TryGetValue("environment", out var env) && ((Dictionary<object, object>)env).TryGetValue(name, out var value) ? (string)value : null;

    [Fact]
    public void The_scaled_profile_runs_a_sticky_proxy_two_web_nodes_and_two_workers_on_one_database_and_media_volume()
    {
        var services = Services();
        var scaled = services.Where(s => List(s.Value, "profiles").Contains("scaled")).Select(s => s.Key).Order().ToList();
        Assert.Equal(["proxy", "web1", "web2", "worker1", "worker2"], scaled);
        // The one-process studio is the other profile, so the two never run side by side on port 5000.
        Assert.Equal(["single"], List(services["studio"], "profiles"));
        Assert.Empty(List(services["db"], "profiles"));

        foreach (var web in new[] { "web1", "web2" })
        {
            Assert.Equal("web", Setting(services[web], "Studio__Role"));
            Assert.Equal("true", Setting(services[web], "Studio__Security__ForwardedHeaders"));
        }
        foreach (var worker in new[] { "worker1", "worker2" })
            Assert.Equal("worker", Setting(services[worker], "Studio__Role"));
        // Clips, posters and checkpoints written by a worker are read by every web node.
        foreach (var node in new[] { "web1", "web2", "worker1", "worker2" })
        {
            Assert.Contains("media:/data", List(services[node], "volumes"));
            Assert.StartsWith("Host=db;", Setting(services[node], "ConnectionStrings__Studio"));
            Assert.Contains("migrate", ((Dictionary<object, object>)services[node]["depends_on"]).Keys.Cast<string>());
        }
        // Every service on the one network whose addresses the web nodes trust for forwarded headers.
        Assert.All(services.Values, s => Assert.Equal(["studio"], List(s, "networks")));
        Assert.Equal("10.77.0.0/24", Setting(services["web1"], "Studio__Security__KnownNetworks__0"));
    }

    [Fact]
    public void The_proxy_pins_a_browser_to_one_web_node_and_skips_nodes_that_are_not_ready()
    {
        var services = Services();
        Assert.Contains("./Caddyfile:/etc/caddy/Caddyfile:ro", List(services["proxy"], "volumes"));
        var caddy = File.ReadAllText(Path.Combine(Docker, "Caddyfile"));
        var upstreams = Regex.Match(caddy, @"reverse_proxy ([^{]+)\{").Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["web1:8080", "web2:8080"], upstreams);
        Assert.Matches(@"(?m)^\s*lb_policy cookie \S+", caddy);
        Assert.Matches(@"(?m)^\s*health_uri /health/ready\s*$", caddy);
    }
}
