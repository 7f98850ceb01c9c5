using System.Globalization;
using System.Text;

namespace BgeVectorDb.Cli.Commands;

/// <summary>Plain-text output: aligned columns and "field: value" blocks.</summary>
internal static class Table
{
    /// <summary>Columns separated by two spaces, padded to the widest cell; the last column is not padded.</summary>
    public static void Write(TextWriter writer, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in all)
        {
            for (var i = 0; i < widths.Length && i < row.Count; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }
        WriteRow(writer, headers, widths);
        foreach (var row in all)
        {
            WriteRow(writer, row, widths);
        }
    }

    /// <summary>"name:      value" lines, names padded to the longest.</summary>
    public static void WriteFields(TextWriter writer, IReadOnlyList<(string Name, string Value)> fields)
    {
        var width = fields.Max(f => f.Name.Length) + 1;
        foreach (var (name, value) in fields)
        {
            writer.WriteLine((name + ":").PadRight(width + 1) + value);
        }
    }

    /// <summary>Byte count with a binary unit: "512 B", "1.5 KiB", "3.2 GiB".</summary>
    public static string Bytes(ulong bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? bytes.ToString(CultureInfo.InvariantCulture) + " B"
            : value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    /// <summary>One line of text, whitespace runs collapsed, cut to <paramref name="max"/> characters with "...".</summary>
    public static string Snippet(string text, int max)
    {
        var sb = new StringBuilder(Math.Min(text.Length, max + 3));
        var space = false;
        foreach (var ch in text)
        {
            if (char.IsWhiteSpace(ch))
            {
                space = sb.Length > 0;
                continue;
            }
            if (space)
            {
                sb.Append(' ');
                space = false;
            }
            sb.Append(ch);
            if (sb.Length > max)
            {
                break;
            }
        }
        return sb.Length > max ? sb.ToString(0, max - 3) + "..." : sb.ToString();
    }

    private static void WriteRow(TextWriter writer, IReadOnlyList<string> cells, int[] widths)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < cells.Count; i++)
        {
            if (i > 0)
            {
                sb.Append("  ");
            }
            sb.Append(i < cells.Count - 1 && i < widths.Length ? cells[i].PadRight(widths[i]) : cells[i]);
        }
        writer.WriteLine(sb.ToString().TrimEnd());
    }
}
