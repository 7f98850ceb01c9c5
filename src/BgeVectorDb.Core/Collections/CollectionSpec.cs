using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Collections;

/// <summary>What a client asks for at creation; nulls and zeros mean "default".</summary>
public sealed record CollectionSpec(
    string Name,
    string? EmbeddingModel = null,
    int Dimension = 0,
    DistanceKind? Distance = null,
    HnswParameters? Hnsw = null,
    string? RerankerModel = null,
    string? QueryInstruction = null);
