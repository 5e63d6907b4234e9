using System.Text;
using System.Text.Json;
using PreferenceStudio.Environments;

namespace PreferenceStudio.Learning;

/// <summary>
/// The reward-model types the studio knows, by the identifier written to checkpoints and passed to --model.
/// Adding a type is one line in <see cref="TrainerFactories"/> and one in <see cref="Loaders"/>.
/// </summary>
public static class RewardModels
{
    private static readonly Dictionary<string, Func<IRewardModelTrainer>> TrainerFactories = new(StringComparer.Ordinal)
    {
        [BradleyTerryRewardModel.TypeName] = () => new BradleyTerryTrainer(),
        [Regret.RegretRewardModel.TypeName] = () => new Regret.RegretTrainer(),
        [Vpl.VplRewardModel.TypeName] = () => new Vpl.VplTrainer(),
    };

    private static readonly Dictionary<string, Func<string, IPreferenceEnvironment?, string, IRewardModel>> Loaders = new(StringComparer.Ordinal)
    {
        [BradleyTerryRewardModel.TypeName] = (path, env, device) => BradleyTerryRewardModel.Load(path, env, device),
        [Regret.RegretRewardModel.TypeName] = (path, env, device) => Regret.RegretRewardModel.Load(path, env, device),
        [Vpl.VplRewardModel.TypeName] = (path, env, device) => Vpl.VplRewardModel.Load(path, env, device),
    };

    /// <summary>Known model types, e.g. "bt".</summary>
    public static IReadOnlyList<string> Types => TrainerFactories.Keys.ToList();

    /// <summary>A fresh trainer for <paramref name="type"/>; <see cref="ArgumentException"/> listing the known types otherwise.</summary>
    public static IRewardModelTrainer Trainer(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return TrainerFactories.TryGetValue(type, out var make)
            ? make()
            : throw new ArgumentException($"Unknown reward-model type '{type}'. Known types: {string.Join(", ", Types)}.", nameof(type));
    }

    /// <summary>
    /// Loads any checkpoint written by a model's Save: reads the header's ModelType and hands the file to that type's
    /// loader. The environment is looked up by the name stored in the file unless given.
    /// </summary>
    public static IRewardModel Load(string path, IPreferenceEnvironment? env = null, string device = "auto")
    {
        var type = RewardCheckpoint.PeekModelType(path);
        return Loaders.TryGetValue(type, out var load)
            ? load(path, env, device)
            : throw new RewardTrainingException($"{path} holds a '{type}' model; this build loads {string.Join(", ", Loaders.Keys)}.");
    }
}

/// <summary>
/// The checkpoint convention every reward model follows, so one loader can tell them apart: the magic string
/// <see cref="Magic"/>, then a JSON header whose first property is "ModelType" (both as BinaryWriter strings), then the
/// model's own payload (weights).
/// </summary>
public static class RewardCheckpoint
{
    public const string Magic = "preferencestudio/reward-model@1";

    /// <summary>Writes the magic string and the header; <paramref name="header"/> must serialise ModelType first.</summary>
    public static void WriteHeader<THeader>(BinaryWriter writer, THeader header)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Magic);
        writer.Write(JsonSerializer.Serialize(header));
    }

    /// <summary>
    /// Writes one checkpoint file: the magic string, the header, then the model's payload (its weights), creating the
    /// folder when needed.
    /// </summary>
    public static void Write<THeader>(string path, THeader header, Action<BinaryWriter> payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(payload);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream, Encoding.UTF8);
        WriteHeader(writer, header);
        payload(writer);
    }

    /// <summary>
    /// Checks that a header read from <paramref name="path"/> holds a <paramref name="expectedType"/> model, and returns
    /// the environment it belongs to: <paramref name="env"/> when given (it must be the one the model was trained on,
    /// with the same feature size), else the registered environment of that name.
    /// </summary>
    public static IPreferenceEnvironment Environment(string path, string storedType, string expectedType,
        string storedEnvironment, int storedFeatureSize, IPreferenceEnvironment? env)
    {
        if (storedType != expectedType)
            throw new RewardTrainingException($"{path} holds a '{storedType}' model, not '{expectedType}'.");
        env ??= EnvironmentRegistry.Get(storedEnvironment);
        if (env.Name != storedEnvironment || env.FeatureSize != storedFeatureSize)
            throw new RewardTrainingException($"{path} was trained on {storedEnvironment} ({storedFeatureSize} features), not {env.Name} ({env.FeatureSize}).");
        return env;
    }

    /// <summary>Reads the magic string and the header JSON, leaving the reader at the payload.</summary>
    public static string ReadHeaderJson(BinaryReader reader, string path)
    {
        ArgumentNullException.ThrowIfNull(reader);
        try
        {
            if (reader.ReadString() != Magic) throw new RewardTrainingException($"{path} is not a PreferenceStudio reward-model checkpoint.");
            return reader.ReadString();
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException)
        {
            throw new RewardTrainingException($"{path} is not a readable reward-model checkpoint: {e.Message}", e);
        }
    }

    /// <summary>Reads and deserialises the header, leaving the reader at the payload.</summary>
    public static THeader ReadHeader<THeader>(BinaryReader reader, string path)
    {
        var json = ReadHeaderJson(reader, path);
        try
        {
            return JsonSerializer.Deserialize<THeader>(json) ?? throw new RewardTrainingException($"{path} has an empty checkpoint header.");
        }
        catch (JsonException e)
        {
            throw new RewardTrainingException($"{path} is not a readable reward-model checkpoint: {e.Message}", e);
        }
    }

    /// <summary>The ModelType stored in a checkpoint's header, without reading the weights.</summary>
    public static string PeekModelType(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var json = ReadHeaderJson(reader, path);
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                   && doc.RootElement.TryGetProperty("ModelType", out var t) && t.GetString() is { Length: > 0 } type
                ? type
                : throw new RewardTrainingException($"{path} has a checkpoint header without a ModelType.");
        }
        catch (JsonException e)
        {
            throw new RewardTrainingException($"{path} is not a readable reward-model checkpoint: {e.Message}", e);
        }
    }
}
