using BgeVectorDb.Common.Mining;
using BgeVectorDb.Core.Search;

namespace BgeVectorDb.Core.Mining;

/// <summary>
/// Parameters of a mining job (FlagEmbedding's hn_mine, plus filters). Nulls mean defaults.
/// </summary>
/// <param name="RangeStart">Start of the sampled slice of ranked hits, as a Python slice over the 0-based
/// ranking: FlagEmbedding's <c>range_for_sampling 2-200</c> is <c>hits[2:200]</c>, i.e. 1-based ranks 3..200.
/// Default 2.</param>
/// <param name="RangeEnd">End (exclusive) of that slice; also the number of ANN hits retrieved. Default 200.</param>
/// <param name="NegativeNumber">Negatives per query. Default 15.</param>
/// <param name="QueryInstruction">Null = the collection's; "" = none.</param>
/// <param name="Seed">Same seed and input give byte-identical output (see <see cref="DeterministicRandom"/>).</param>
/// <param name="Filter">Metadata filter on candidate documents.</param>
/// <param name="DropNearDuplicates">Drop candidates that nearly duplicate a positive (see <see cref="TextSimilarity"/>).
/// Candidates equal to a positive (or to the query) are always dropped.</param>
/// <param name="NearDuplicateThreshold">Jaccard threshold; null = 0.9.</param>
/// <param name="FalseNegativeRatio">Cross-encoder false-negative filter: drop a candidate whose relevance
/// exceeds this fraction of the lowest positive's. Null = off.</param>
/// <param name="WithScores">Fill pos_scores/neg_scores with cross-encoder scores.</param>
/// <param name="RerankerScoresAreProbabilities">The reranker already returns sigmoid(logit); otherwise the
/// false-negative rule applies a sigmoid to raw logits first, so it compares probabilities.</param>
/// <param name="Parallelism">Queries mined at the same time (results still come in input order). Null = 4.</param>
public sealed record MiningOptions(
    int? RangeStart = null,
    int? RangeEnd = null,
    int? NegativeNumber = null,
    string? QueryInstruction = null,
    ulong Seed = 0,
    Filter? Filter = null,
    bool DropNearDuplicates = true,
    double? NearDuplicateThreshold = null,
    double? FalseNegativeRatio = null,
    bool WithScores = false,
    bool RerankerScoresAreProbabilities = false,
    int? Parallelism = null)
{
    public const int DefaultRangeStart = MiningDefaults.RangeStart;
    public const int DefaultRangeEnd = MiningDefaults.RangeEnd;
    public const int DefaultNegativeNumber = MiningDefaults.NegativeNumber;
    public const int DefaultParallelism = MiningDefaults.Parallelism;
    public const int MaxNegativeNumber = MiningDefaults.MaxNegativeNumber;
}
