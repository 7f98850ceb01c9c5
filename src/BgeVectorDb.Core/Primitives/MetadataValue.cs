using System.Globalization;

namespace BgeVectorDb.Core.Primitives;

public enum MetadataKind : byte
{
    String = 1,
    Int = 2,
    Double = 3,
    Bool = 4,
    StringList = 5,
}

/// <summary>One metadata value: a string, a 64-bit integer, a double, a bool or a list of strings.</summary>
public sealed class MetadataValue : IEquatable<MetadataValue>
{
    private MetadataValue(MetadataKind kind, string? s, long i, double d, IReadOnlyList<string>? list)
    {
        Kind = kind;
        StringValue = s;
        IntValue = i;
        DoubleValue = d;
        StringList = list;
    }

    public MetadataKind Kind { get; }
    public string? StringValue { get; }
    public long IntValue { get; }
    public double DoubleValue { get; }
    public bool BoolValue => Kind == MetadataKind.Bool && IntValue != 0;
    public IReadOnlyList<string>? StringList { get; }

    public static MetadataValue Of(string value) => new(MetadataKind.String, value, 0, 0, null);
    public static MetadataValue Of(long value) => new(MetadataKind.Int, null, value, 0, null);
    public static MetadataValue Of(double value) => new(MetadataKind.Double, null, 0, value, null);
    public static MetadataValue Of(bool value) => new(MetadataKind.Bool, null, value ? 1 : 0, 0, null);
    public static MetadataValue Of(IReadOnlyList<string> values) => new(MetadataKind.StringList, null, 0, 0, values.ToArray());

    public bool IsNumeric => Kind is MetadataKind.Int or MetadataKind.Double;

    public double AsDouble() => Kind == MetadataKind.Int ? IntValue : DoubleValue;

    /// <summary>Approximate encoded size in bytes, used for the metadata size limit.</summary>
    public int SizeBytes => Kind switch
    {
        MetadataKind.String => System.Text.Encoding.UTF8.GetByteCount(StringValue!),
        MetadataKind.StringList => StringList!.Sum(s => System.Text.Encoding.UTF8.GetByteCount(s) + 2),
        _ => 8,
    };

    /// <summary>Filter equality: numbers compare by value across int/double; a string list equals a
    /// string it contains.</summary>
    public bool Matches(MetadataValue probe)
    {
        if (IsNumeric && probe.IsNumeric)
        {
            return AsDouble() == probe.AsDouble();
        }
        if (Kind == MetadataKind.StringList && probe.Kind == MetadataKind.String)
        {
            foreach (var s in StringList!)
            {
                if (string.Equals(s, probe.StringValue, StringComparison.Ordinal)) return true;
            }
            return false;
        }
        return Equals(probe);
    }

    public bool Equals(MetadataValue? other)
    {
        if (other is null || other.Kind != Kind) return false;
        return Kind switch
        {
            MetadataKind.String => string.Equals(StringValue, other.StringValue, StringComparison.Ordinal),
            MetadataKind.Int or MetadataKind.Bool => IntValue == other.IntValue,
            MetadataKind.Double => DoubleValue.Equals(other.DoubleValue),
            MetadataKind.StringList => StringList!.SequenceEqual(other.StringList!, StringComparer.Ordinal),
            _ => false,
        };
    }

    public override bool Equals(object? obj) => Equals(obj as MetadataValue);

    public override int GetHashCode() => Kind switch
    {
        MetadataKind.String => HashCode.Combine(Kind, StringValue),
        MetadataKind.Double => HashCode.Combine(Kind, DoubleValue),
        MetadataKind.StringList => HashCode.Combine(Kind, StringList!.Count),
        _ => HashCode.Combine(Kind, IntValue),
    };

    public override string ToString() => Kind switch
    {
        MetadataKind.String => StringValue!,
        MetadataKind.Int => IntValue.ToString(CultureInfo.InvariantCulture),
        MetadataKind.Double => DoubleValue.ToString("R", CultureInfo.InvariantCulture),
        MetadataKind.Bool => BoolValue ? "true" : "false",
        _ => "[" + string.Join(", ", StringList!) + "]",
    };
}
