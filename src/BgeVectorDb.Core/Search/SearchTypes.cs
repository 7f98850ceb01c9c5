using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Search;

/// <summary>Common options of every search.</summary>
/// <param name="K">Hits to return (1..MaxK).</param>
/// <param name="Candidates">ANN candidates for the reranker; 0 = default 100 (at least K).</param>
/// <param name="Ef">HNSW beam width; 0 = the collection's default (max(ef_search, 2 x results), capped at max_ef); never below
/// the results retrieved (k, or Candidates when reranking).</param>
public sealed record SearchOptions(
    int K,
    int Candidates = 0,
    Filter? Filter = null,
    ReturnFields? Fields = null,
    int Ef = 0)
{
    public const int DefaultCandidates = 100;
}

/// <summary>A text query.</summary>
/// <param name="Rerank">Null = rerank when the collection has a reranker.</param>
/// <param name="QueryInstruction">Null = the collection's instruction; "" = none.</param>
public sealed record TextQuery(string Text, SearchOptions Options, bool? Rerank = null, string? QueryInstruction = null);

public sealed record SearchHit(
    string Id,
    float Score,
    float AnnScore,
    float? RerankScore,
    int AnnRank,
    string? Text,
    IReadOnlyDictionary<string, MetadataValue>? Metadata,
    float[]? Vector);

/// <summary>Wall time per stage, in microseconds.</summary>
public sealed record StageTimings(long EmbedUs, long AnnUs, long FetchUs, long RerankUs, long TotalUs);

/// <summary>A search's hits and how they were found.</summary>
/// <param name="Ef">The beam width given to the index (an exact index scans everything and ignores it).</param>
/// <param name="QueryVector">The vector a text search embedded its query into (as used for the ANN step); null for
/// searches by vector or document.</param>
public sealed record SearchResult(IReadOnlyList<SearchHit> Hits, StageTimings Timings, bool Reranked, string IndexUsed, int Ef = 0, float[]? QueryVector = null);
