namespace BgeVectorDb.Core.Primitives;

/// <summary>HNSW build and search parameters.</summary>
/// <param name="M">Links per node on upper layers (level 0 keeps 2*M). Default 16.</param>
/// <param name="EfConstruction">Beam width while building. Default 200.</param>
/// <param name="EfSearch">Default beam width while searching. Default 100.</param>
public sealed record HnswParameters(int M = 16, int EfConstruction = 200, int EfSearch = 100)
{
    public static HnswParameters Default { get; } = new();
}

/// <summary>The effective configuration of a collection (defaults resolved at creation).</summary>
/// <param name="EmbeddingModel">Model id, or <see cref="CollectionConfig.None"/> for vectors only.</param>
/// <param name="Dimension">Vector dimension.</param>
/// <param name="RerankerModel">Cross-encoder id, or <see cref="CollectionConfig.None"/>.</param>
/// <param name="QueryInstruction">Prefix of text queries; "" for none.</param>
public sealed record CollectionConfig(
    string EmbeddingModel,
    int Dimension,
    DistanceKind Distance,
    HnswParameters Hnsw,
    string RerankerModel,
    string QueryInstruction)
{
    public const string None = "none";

    public bool HasEmbedder => !string.Equals(EmbeddingModel, None, StringComparison.OrdinalIgnoreCase);
    public bool HasReranker => !string.Equals(RerankerModel, None, StringComparison.OrdinalIgnoreCase);
}
