using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Search;

/// <summary>A metadata predicate: leaves test one field, And/Or/Not combine them.</summary>
public abstract record Filter
{
    /// <summary>True when the document's metadata satisfies the filter.</summary>
    public abstract bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata);
}

public sealed record AndFilter(IReadOnlyList<Filter> Filters) : Filter
{
    public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        foreach (var f in Filters)
        {
            if (!f.Matches(metadata)) return false;
        }
        return true;
    }
}

public sealed record OrFilter(IReadOnlyList<Filter> Filters) : Filter
{
    public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        foreach (var f in Filters)
        {
            if (f.Matches(metadata)) return true;
        }
        return false;
    }
}

public sealed record NotFilter(Filter Inner) : Filter
{
    public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata) => !Inner.Matches(metadata);
}

/// <summary>Field equals a value (numbers by value across int/double; a string list contains it).</summary>
public sealed record EqualsFilter(string Key, MetadataValue Value) : Filter
{
    public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata) =>
        metadata.TryGetValue(Key, out var v) && v.Matches(Value);
}

/// <summary>Field equals any of the values.</summary>
public sealed record AnyOfFilter(string Key, IReadOnlyList<MetadataValue> Values) : Filter
{
    public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        if (!metadata.TryGetValue(Key, out var v)) return false;
        foreach (var probe in Values)
        {
            if (v.Matches(probe)) return true;
        }
        return false;
    }
}

/// <summary>Numeric field within bounds (each bound optional). Non-numeric fields never match.</summary>
public sealed record RangeFilter(string Key, double? Gt, double? Gte, double? Lt, double? Lte) : Filter
{
    public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        if (!metadata.TryGetValue(Key, out var v) || !v.IsNumeric) return false;
        var x = v.AsDouble();
        return (Gt is not { } gt || x > gt)
            && (Gte is not { } gte || x >= gte)
            && (Lt is not { } lt || x < lt)
            && (Lte is not { } lte || x <= lte);
    }
}

/// <summary>Field is present.</summary>
public sealed record ExistsFilter(string Key) : Filter
{
    public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata) => metadata.ContainsKey(Key);
}
