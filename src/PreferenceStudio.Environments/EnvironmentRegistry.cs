using PreferenceStudio.Environments.Delivery;

namespace PreferenceStudio.Environments;

/// <summary>The environments a campaign can use, by name. New environments register here.</summary>
public static class EnvironmentRegistry
{
    private static readonly Dictionary<string, Func<IPreferenceEnvironment>> Factories = new(StringComparer.Ordinal)
    {
        [DeliveryGridworld.EnvironmentName] = () => DeliveryGridworld.Standard,
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static bool TryGet(string name, out IPreferenceEnvironment environment)
    {
        if (Factories.TryGetValue(name, out var factory))
        {
            environment = factory();
            return true;
        }
        environment = null!;
        return false;
    }

    public static IPreferenceEnvironment Get(string name) =>
        TryGet(name, out var env)
            ? env
            : throw new ArgumentException($"Unknown environment '{name}'. Known environments: {string.Join(", ", Names)}.", nameof(name));
}
