namespace BgeVectorDb.Core.Primitives;

/// <summary>A document as a client writes it. <see cref="Vector"/> is optional when the collection
/// has an embedding model (then <see cref="Text"/> is embedded).</summary>
public sealed record Document(
    string Id,
    string Text,
    IReadOnlyDictionary<string, MetadataValue> Metadata,
    float[]? Vector = null)
{
    public static readonly IReadOnlyDictionary<string, MetadataValue> NoMetadata =
        new Dictionary<string, MetadataValue>(0);
}

/// <summary>A stored document: what a read returns.</summary>
public sealed record StoredDocument(
    string Id,
    string Text,
    IReadOnlyDictionary<string, MetadataValue> Metadata,
    float[] Vector);

/// <summary>Which parts of a stored document a read or search returns.</summary>
public readonly record struct ReturnFields(bool Text, bool Metadata, bool Vector)
{
    public static ReturnFields Default => new(true, true, false);
}
