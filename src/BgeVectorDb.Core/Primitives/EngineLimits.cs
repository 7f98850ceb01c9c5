namespace BgeVectorDb.Core.Primitives;

/// <summary>Limits on requests (configuration section "Limits"), enforced by the engine with InvalidArgument errors
/// naming the limit and its configuration key (e.g. "max_ef=10000 (Limits:MaxEf)").</summary>
public sealed record EngineLimits
{
    /// <summary>The configuration section these limits are read from.</summary>
    public const string Section = "Limits";

    /// <summary>How an error names a limit: "max_ef=10000 (Limits:MaxEf)" — the wire name and value, then the key an
    /// operator sets.</summary>
    public static string Cite(string wireName, long value, string property) => $"{wireName}={value} ({Section}:{property})";

    /// <summary>What is wrong with these limits, each naming its configuration key; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void AtLeastOne(string property, int value)
        {
            if (value < 1) problems.Add($"{Section}:{property} must be at least 1, got {value}");
        }
        AtLeastOne(nameof(MaxBatchSize), MaxBatchSize);
        AtLeastOne(nameof(MaxIdBytes), MaxIdBytes);
        AtLeastOne(nameof(MaxTextLength), MaxTextLength);
        AtLeastOne(nameof(MaxQueryLength), MaxQueryLength);
        AtLeastOne(nameof(MaxMetadataBytes), MaxMetadataBytes);
        AtLeastOne(nameof(MaxK), MaxK);
        AtLeastOne(nameof(MaxCandidates), MaxCandidates);
        AtLeastOne(nameof(MaxEf), MaxEf);
        AtLeastOne(nameof(MaxDimension), MaxDimension);
        AtLeastOne(nameof(MaxIdsPerRequest), MaxIdsPerRequest);
        // A search for k hits retrieves at least k candidates (candidates is 0 = default, or >= k), so a k above
        // max_candidates could never be served with reranking.
        if (MaxK >= 1 && MaxCandidates >= 1 && MaxK > MaxCandidates)
        {
            problems.Add($"{Section}:{nameof(MaxK)} ({MaxK}) must not exceed {Section}:{nameof(MaxCandidates)} ({MaxCandidates})");
        }
        return problems;
    }

    /// <summary>Documents per upsert batch. Default 1,000.</summary>
    public int MaxBatchSize { get; init; } = 1000;
    /// <summary>UTF-8 bytes per external id. Default 256.</summary>
    public int MaxIdBytes { get; init; } = 256;
    /// <summary>Characters per document text. Default 65,536.</summary>
    public int MaxTextLength { get; init; } = 65536;
    /// <summary>Characters per query text. Default 8,192.</summary>
    public int MaxQueryLength { get; init; } = 8192;
    /// <summary>Encoded bytes of one document's metadata. Default 65,536.</summary>
    public int MaxMetadataBytes { get; init; } = 65536;
    /// <summary>Largest k. Default 1,000.</summary>
    public int MaxK { get; init; } = 1000;
    /// <summary>Largest number of ANN candidates (and so of pairs reranked). Default 10,000.</summary>
    public int MaxCandidates { get; init; } = 10000;
    /// <summary>Largest HNSW beam width: a query's ef and a collection's ef_search. Default 10,000 (= the default
    /// max_candidates; ef is raised to the candidates asked for anyway).</summary>
    public int MaxEf { get; init; } = 10000;
    /// <summary>Largest vector dimension. Default 4,096.</summary>
    public int MaxDimension { get; init; } = 4096;
    /// <summary>Ids per get/delete request. Default 10,000.</summary>
    public int MaxIdsPerRequest { get; init; } = 10000;
}
