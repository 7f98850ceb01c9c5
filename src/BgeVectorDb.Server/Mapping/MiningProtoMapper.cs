using BgeVectorDb.Common.Errors;
using BgeVectorDb.Common.Mining;
using BgeVectorDb.Core.Mining;
using V1 = BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Server.Mapping;

/// <summary>Converts mining requests and results between the v1 contract and the engine. Malformed input
/// becomes an InvalidArgument EngineException naming the request field.</summary>
internal static class MiningProtoMapper
{
    /// <summary>Most queries in one call; longer jobs are split into calls with first_index.</summary>
    public const int MaxQueriesPerCall = 10_000;

    public static MiningOptions ToOptions(V1.MineRequest request, bool rerankerScoresAreProbabilities)
    {
        if (request.Queries.Count == 0) throw Invalid("queries", "must contain at least one query");
        if (request.Queries.Count > MaxQueriesPerCall)
        {
            throw Invalid("queries", $"{request.Queries.Count} queries exceeds {MaxQueriesPerCall} per call: split the job into calls with first_index");
        }
        if (request.FirstIndex > long.MaxValue - MaxQueriesPerCall) throw Invalid("first_index", $"{request.FirstIndex} is too large");
        return new MiningOptions(
            RangeStart: request.HasRangeStart ? ToInt(request.RangeStart, "range_start") : null,
            RangeEnd: request.HasRangeEnd ? ToInt(request.RangeEnd, "range_end") : null,
            NegativeNumber: request.NegativeNumber == 0 ? null : ToInt(request.NegativeNumber, "negative_number"),
            QueryInstruction: request.HasQueryInstruction ? request.QueryInstruction : null,
            Seed: request.Seed,
            Filter: request.Filter is null ? null : ProtoMapper.ToCore(request.Filter, "filter"),
            DropNearDuplicates: !request.KeepNearDuplicates,
            NearDuplicateThreshold: request.NearDuplicateThreshold == 0 ? null : request.NearDuplicateThreshold,
            FalseNegativeRatio: request.HasFalseNegativeRatio ? request.FalseNegativeRatio : null,
            WithScores: request.WithScores,
            RerankerScoresAreProbabilities: rerankerScoresAreProbabilities);
    }

    /// <summary>The examples of a request, indexed from first_index; field of query i is "queries[i]".</summary>
    public static MiningExample[] ToExamples(V1.MineRequest request)
    {
        var examples = new MiningExample[request.Queries.Count];
        for (var i = 0; i < examples.Length; i++)
        {
            var q = request.Queries[i];
            var field = $"queries[{i}]";
            for (var j = 0; j < q.PosIds.Count; j++)
            {
                if (string.IsNullOrEmpty(q.PosIds[j])) throw Invalid($"{field}.pos_ids[{j}]", "must not be empty");
            }
            examples[i] = new MiningExample((long)request.FirstIndex + i, q.Query, q.Pos.ToArray(), q.PosIds.Count > 0 ? q.PosIds.ToArray() : null,
                Extra: FlagEmbeddingJsonl.ParseExtra(q.ExtraJson, field + ".extra_json"),
                QueryId: q.QueryId.Length > 0 ? q.QueryId : null);
        }
        return examples;
    }

    public static V1.MinedExample ToProto(MinedExample mined)
    {
        var pb = new V1.MinedExample
        {
            Index = (ulong)mined.Source.Index,
            Query = mined.Query,
            Shortfall = mined.Shortfall ?? "",
            Jsonl = FlagEmbeddingJsonl.Format(mined),
            QueryId = mined.Source.QueryId ?? "",
            Counts = new V1.MiningCounts
            {
                InRange = (uint)mined.Counts.InRange,
                Examined = (uint)mined.Counts.Examined,
                DroppedPositive = (uint)mined.Counts.DroppedPositive,
                DroppedQuery = (uint)mined.Counts.DroppedQuery,
                DroppedNearDuplicate = (uint)mined.Counts.DroppedNearDuplicate,
                DroppedFalseNegative = (uint)mined.Counts.DroppedFalseNegative,
            },
        };
        if (mined.FalseNegativeThreshold is { } t) pb.FalseNegativeThreshold = t;
        pb.Pos.AddRange(mined.Pos);
        foreach (var n in mined.Negatives)
        {
            pb.Neg.Add(n.Text);
            var negative = new V1.MinedNegative { Id = n.Id, Rank = (uint)n.Rank, AnnScore = n.AnnScore };
            if (n.RerankScore is { } rs) negative.RerankScore = rs;
            pb.Negatives.Add(negative);
        }
        if (mined.WithScores)
        {
            pb.PosScores.AddRange(mined.PosScores ?? []);
            pb.NegScores.AddRange(mined.Negatives.Select(n => n.RerankScore ?? 0f));
        }
        return pb;
    }

    private static int ToInt(uint value, string field) =>
        value <= int.MaxValue ? (int)value : throw Invalid(field, $"{value} is too large");

    private static EngineException Invalid(string field, string message) =>
        new(EngineErrorKind.InvalidArgument, $"{field}: {message}", field);
}
