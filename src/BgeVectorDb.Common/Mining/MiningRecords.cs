using System.Text.Json.Nodes;

namespace BgeVectorDb.Common.Mining;

/// <summary>One training example to mine for.</summary>
/// <param name="Index">Position in the whole job (0-based); keys the random stream of the example.</param>
/// <param name="Query">Query text (no instruction).</param>
/// <param name="Pos">Positive texts.</param>
/// <param name="PosIds">Ids of positive documents in the collection (BEIR qrels); their texts are appended to
/// <paramref name="Pos"/> in the output.</param>
/// <param name="Neg">Negatives given in the input (ignored by the miner, replaced in the output, like hn_mine).</param>
/// <param name="Extra">Other fields of the input line, copied to the output line in their order.</param>
/// <param name="QueryId">Query id (BEIR), recorded in the provenance.</param>
/// <param name="QueryVector">Precomputed query vector (skips embedding; for vectors-only collections).</param>
public sealed record MiningExample(
    long Index,
    string Query,
    IReadOnlyList<string> Pos,
    IReadOnlyList<string>? PosIds = null,
    IReadOnlyList<string>? Neg = null,
    JsonObject? Extra = null,
    string? QueryId = null,
    float[]? QueryVector = null);

/// <summary>A chosen negative and where it came from.</summary>
/// <param name="Rank">1-based rank among the ANN hits of the query (filter applied).</param>
/// <param name="AnnScore">Similarity of the query and the document vectors.</param>
/// <param name="RerankScore">Cross-encoder score when the false-negative filter or scores were requested.</param>
public sealed record MinedNegative(string Id, string Text, int Rank, float AnnScore, float? RerankScore);

/// <summary>What happened to the candidates of one query. Candidates are examined in a random order
/// until enough negatives are found, so the drop counts cover the examined candidates only (all of them
/// whenever the line falls short).</summary>
/// <param name="InRange">ANN hits inside the sampling slice.</param>
/// <param name="Examined">Candidates examined.</param>
/// <param name="DroppedPositive">Candidates that are a positive (same id, or equal text).</param>
/// <param name="DroppedQuery">Candidates whose text equals the query.</param>
/// <param name="DroppedNearDuplicate">Candidates nearly duplicating a positive.</param>
/// <param name="DroppedFalseNegative">Candidates above the cross-encoder threshold.</param>
public sealed record MiningCounts(int InRange, int Examined, int DroppedPositive, int DroppedQuery, int DroppedNearDuplicate, int DroppedFalseNegative);

/// <summary>The result for one example: the FlagEmbedding fields plus provenance.</summary>
/// <param name="Pos">Positive texts (input texts, then texts of <see cref="MiningExample.PosIds"/>).</param>
/// <param name="Negatives">Chosen negatives in rank order.</param>
/// <param name="PosScores">Cross-encoder scores of <paramref name="Pos"/> (when requested or filtering).</param>
/// <param name="Shortfall">Why fewer than the requested number of negatives were found; null when none is missing.</param>
/// <param name="FalseNegativeThreshold">Score above which candidates were dropped (reranker scale), when filtering.</param>
public sealed record MinedExample(
    MiningExample Source,
    IReadOnlyList<string> Pos,
    IReadOnlyList<MinedNegative> Negatives,
    IReadOnlyList<float>? PosScores,
    bool WithScores,
    int Requested,
    int RangeStart,
    int RangeEnd,
    MiningCounts Counts,
    string? Shortfall,
    float? FalseNegativeThreshold)
{
    public string Query => Source.Query;
}
