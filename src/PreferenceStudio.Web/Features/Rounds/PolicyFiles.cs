using System.Text.Json;

namespace PreferenceStudio.Web.Features.Rounds;

/// <summary>
/// Tabular policies (one action per state) as small JSON files beside the reward-model checkpoints; the database
/// keeps the path. Written to a temporary name and renamed so a crash never leaves a half-written policy.
/// </summary>
public static class PolicyFiles
{
    public static void Write(string path, int[] actions)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(actions));
        File.Move(temp, path, overwrite: true);
    }

    public static int[] Read(string path) =>
        JsonSerializer.Deserialize<int[]>(File.ReadAllText(path))
        ?? throw new InvalidDataException($"Policy file {path} is empty.");
}
