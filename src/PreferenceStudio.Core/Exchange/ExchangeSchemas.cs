using System.Reflection;

namespace PreferenceStudio.Core.Exchange;

/// <summary>
/// The exchange format's JSON Schemas (draft 2020-12), published at /api/v1/schemas/{name}: what a line of each
/// record kind may hold. The reader (<see cref="PreferenceJsonl"/>) checks the same shape and, beyond it, each
/// segment against its environment; the tests keep the two in step.
/// </summary>
public static class ExchangeSchemas
{
    public const string PreferenceFile = "preference@1.json";
    public const string FactorRankingFile = "factor-ranking@1.json";

    /// <summary>File name of each schema by the value of the "schema" field of the lines it describes.</summary>
    public static readonly IReadOnlyDictionary<string, string> FileBySchemaName = new Dictionary<string, string>
    {
        [PreferenceRecord.SchemaName] = PreferenceFile,
        [FactorRankingRecord.SchemaName] = FactorRankingFile,
    };

    public static IReadOnlyList<string> Files { get; } = [PreferenceFile, FactorRankingFile];

    /// <summary>The schema's text, or null for an unknown file name.</summary>
    public static string? Read(string fileName)
    {
        if (!Files.Contains(fileName)) return null;
        using var stream = typeof(ExchangeSchemas).Assembly.GetManifestResourceStream($"PreferenceStudio.Core.Exchange.Schemas.{fileName}")
            ?? throw new InvalidOperationException($"The schema {fileName} is not embedded in {typeof(ExchangeSchemas).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
