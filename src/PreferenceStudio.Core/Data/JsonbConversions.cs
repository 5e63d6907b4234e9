using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace PreferenceStudio.Core.Data;

/// <summary>
/// Stores a CLR value as jsonb through System.Text.Json. An explicit converter instead of Npgsql's dynamic JSON
/// mapping: jagged arrays have no PostgreSQL array equivalent, and the converter needs no global opt-in.
/// </summary>
internal static class JsonbConversions
{
    public static PropertyBuilder<T> IsJsonb<T>(this PropertyBuilder<T> property)
    {
        // Serialized-text comparison: arrays are mutable, so reference equality would miss in-place edits.
        var comparer = new ValueComparer<T>(
            (a, b) => JsonSerializer.Serialize(a, (JsonSerializerOptions?)null) == JsonSerializer.Serialize(b, (JsonSerializerOptions?)null),
            v => JsonSerializer.Serialize(v, (JsonSerializerOptions?)null).GetHashCode(),
            v => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(v, (JsonSerializerOptions?)null), (JsonSerializerOptions?)null)!);
        return property
            .HasConversion(
                v => JsonSerializer.Serialize(v, (JsonSerializerOptions?)null),
                s => JsonSerializer.Deserialize<T>(s, (JsonSerializerOptions?)null)!,
                comparer)
            .HasColumnType("jsonb");
    }
}
