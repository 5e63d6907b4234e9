using System.Globalization;
using System.Text;

namespace PreferenceStudio.Web.Features.Raters;

/// <summary>
/// CSV for spreadsheets: fields with commas, quotes or line breaks are quoted, and a field that a spreadsheet would
/// run as a formula (starting with =, +, -, @) is prefixed with an apostrophe, since participant ids come from outside.
/// </summary>
public static class Csv
{
    public static string Write(IEnumerable<string> header, IEnumerable<IEnumerable<object?>> rows)
    {
        var csv = new StringBuilder();
        csv.AppendJoin(',', header.Select(Field)).Append('\n');
        foreach (var row in rows) csv.AppendJoin(',', row.Select(v => Field(v switch
        {
            null => "",
            DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => v.ToString() ?? "",
        }))).Append('\n');
        return csv.ToString();
    }

    private static string Field(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }
}
