using PreferenceStudio.Environments.Control;
using PreferenceStudio.Environments.Delivery;

namespace PreferenceStudio.Environments.Rendering;

/// <summary>Finds the frame renderer for an environment. New environments with clips register here.</summary>
public static class FrameRenderers
{
    /// <summary>Default clip size in pixels.</summary>
    public const int DefaultSize = 256;

    private static readonly string[] Drawn = [DeliveryGridworld.EnvironmentName, Pendulum.EnvironmentName, MountainCar.EnvironmentName, MultiGoalNavigation.EnvironmentName];

    public static bool TryFor(IPreferenceEnvironment env, out IFrameRenderer renderer, int width = DefaultSize, int height = DefaultSize)
    {
        renderer = env switch
        {
            DeliveryGridworld delivery => new DeliveryFrameRenderer(delivery, new DeliveryRenderOptions { Width = width, Height = height }),
            Pendulum => new PendulumFrameRenderer(new ControlRenderOptions { Width = width, Height = height }),
            MountainCar => new MountainCarFrameRenderer(new ControlRenderOptions { Width = width, Height = height, FrameRate = 30 }),
            MultiGoalNavigation nav => new NavigationFrameRenderer(nav, new ControlRenderOptions { Width = width, Height = height }),
            _ => null!,
        };
        return renderer is not null;
    }

    /// <exception cref="NotSupportedException">No renderer draws this environment.</exception>
    public static IFrameRenderer For(IPreferenceEnvironment env, int width = DefaultSize, int height = DefaultSize) =>
        TryFor(env, out var renderer, width, height)
            ? renderer
            : throw new NotSupportedException($"No frame renderer draws the environment '{env.Name}'. Renderers exist for: {string.Join(", ", Drawn)}.");
}
