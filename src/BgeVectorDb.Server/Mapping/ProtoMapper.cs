using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Search;
using Google.Protobuf.Collections;
using V1 = BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Server.Mapping;

/// <summary>Converts between the v1 contract and engine types. Malformed protobuf input (a oneof left
/// unset, an unknown enum) becomes an InvalidArgument EngineException naming the field.</summary>
internal static class ProtoMapper
{
    // ---- metadata ----

    public static MetadataValue ToCore(V1.Value value, string field) => value.KindCase switch
    {
        V1.Value.KindOneofCase.StringValue => MetadataValue.Of(value.StringValue),
        V1.Value.KindOneofCase.IntValue => MetadataValue.Of(value.IntValue),
        V1.Value.KindOneofCase.DoubleValue => MetadataValue.Of(value.DoubleValue),
        V1.Value.KindOneofCase.BoolValue => MetadataValue.Of(value.BoolValue),
        V1.Value.KindOneofCase.StringListValue => MetadataValue.Of(value.StringListValue.Values.ToArray()),
        _ => throw Invalid(field, "value has no type set (expected string_value, int_value, double_value, bool_value or string_list_value)"),
    };

    public static V1.Value ToProto(MetadataValue value) => value.Kind switch
    {
        MetadataKind.String => new V1.Value { StringValue = value.StringValue },
        MetadataKind.Int => new V1.Value { IntValue = value.IntValue },
        MetadataKind.Double => new V1.Value { DoubleValue = value.DoubleValue },
        MetadataKind.Bool => new V1.Value { BoolValue = value.BoolValue },
        _ => new V1.Value { StringListValue = new V1.StringList { Values = { value.StringList! } } },
    };

    public static IReadOnlyDictionary<string, MetadataValue> ToCore(MapField<string, V1.Value> metadata, string field)
    {
        if (metadata.Count == 0) return Document.NoMetadata;
        var result = new Dictionary<string, MetadataValue>(metadata.Count, StringComparer.Ordinal);
        foreach (var (key, value) in metadata) result[key] = ToCore(value, $"{field}[{key}]");
        return result;
    }

    public static void CopyTo(IReadOnlyDictionary<string, MetadataValue> metadata, MapField<string, V1.Value> target)
    {
        foreach (var (key, value) in metadata) target[key] = ToProto(value);
    }

    // ---- documents ----

    public static IReadOnlyList<Document> ToCore(RepeatedField<V1.Document> documents)
    {
        var result = new Document[documents.Count];
        for (var i = 0; i < documents.Count; i++)
        {
            var d = documents[i];
            result[i] = new Document(d.Id, d.Text, ToCore(d.Metadata, $"documents[{i}].metadata"), d.Vector.Count > 0 ? d.Vector.ToArray() : null);
        }
        return result;
    }

    public static V1.Document ToProto(StoredDocument d, ReturnFields fields)
    {
        var pb = new V1.Document { Id = d.Id };
        if (fields.Text) pb.Text = d.Text;
        if (fields.Metadata) CopyTo(d.Metadata, pb.Metadata);
        if (fields.Vector) pb.Vector.AddRange(d.Vector);
        return pb;
    }

    public static ReturnFields ToCore(V1.ReturnFields? fields) =>
        fields is null ? ReturnFields.Default : new ReturnFields(fields.Text, fields.Metadata, fields.Vector);

    // ---- collections ----

    public static CollectionSpec ToCore(V1.CreateCollectionRequest request)
    {
        var c = request.Config ?? new V1.CollectionConfig();
        DistanceKind? distance = c.Distance switch
        {
            V1.Distance.Unspecified => null,
            V1.Distance.Cosine => DistanceKind.Cosine,
            V1.Distance.Dot => DistanceKind.Dot,
            V1.Distance.L2 => DistanceKind.L2,
            _ => throw Invalid("config.distance", $"unknown distance {(int)c.Distance}"),
        };
        var hnsw = c.Hnsw is null ? null : new HnswParameters(ToInt(c.Hnsw.M, "config.hnsw.m"), ToInt(c.Hnsw.EfConstruction, "config.hnsw.ef_construction"), ToInt(c.Hnsw.EfSearch, "config.hnsw.ef_search"));
        return new CollectionSpec(request.Name, NullIfEmpty(c.EmbeddingModel), ToInt(c.Dimension, "config.dimension"), distance, hnsw,
            NullIfEmpty(c.RerankerModel), c.HasQueryInstruction ? c.QueryInstruction : null);
    }

    public static V1.CollectionInfo ToProto(Collection c) => new()
    {
        Name = c.Name,
        Config = new V1.CollectionConfig
        {
            EmbeddingModel = c.Config.EmbeddingModel,
            Dimension = (uint)c.Config.Dimension,
            Distance = c.Config.Distance switch
            {
                DistanceKind.Dot => V1.Distance.Dot,
                DistanceKind.L2 => V1.Distance.L2,
                _ => V1.Distance.Cosine,
            },
            Hnsw = new V1.HnswConfig { M = (uint)c.Config.Hnsw.M, EfConstruction = (uint)c.Config.Hnsw.EfConstruction, EfSearch = (uint)c.Config.Hnsw.EfSearch },
            RerankerModel = c.Config.RerankerModel,
            QueryInstruction = c.Config.QueryInstruction,
        },
        DocumentCount = (ulong)c.Count,
        CreatedAtMs = c.CreatedAtMs,
    };

    // ---- search ----

    public static SearchOptions ToCore(V1.SearchOptions? options)
    {
        if (options is null) throw Invalid("options", "required (at least options.k)");
        var filter = options.Filter is null ? null : ToCore(options.Filter, "options.filter");
        return new SearchOptions(options.K, options.Candidates, filter, options.Fields is null ? null : ToCore(options.Fields), options.Ef);
    }

    public static Filter ToCore(V1.Filter filter, string field)
    {
        switch (filter.KindCase)
        {
            case V1.Filter.KindOneofCase.Field:
                return ToCore(filter.Field, field + ".field");
            case V1.Filter.KindOneofCase.And:
                return new AndFilter(ToCore(filter.And, field + ".and"));
            case V1.Filter.KindOneofCase.Or:
                return new OrFilter(ToCore(filter.Or, field + ".or"));
            case V1.Filter.KindOneofCase.Not:
                return new NotFilter(ToCore(filter.Not, field + ".not"));
            default:
                throw Invalid(field, "filter has no type set (expected field, and, or, not)");
        }
    }

    private static Filter[] ToCore(V1.FilterList list, string field)
    {
        if (list.Filters.Count == 0) throw Invalid(field, "must contain at least one filter");
        var result = new Filter[list.Filters.Count];
        for (var i = 0; i < result.Length; i++) result[i] = ToCore(list.Filters[i], $"{field}.filters[{i}]");
        return result;
    }

    private static Filter ToCore(V1.FieldCondition c, string field)
    {
        if (string.IsNullOrEmpty(c.Key)) throw Invalid(field + ".key", "must not be empty");
        switch (c.MatchCase)
        {
            case V1.FieldCondition.MatchOneofCase.Equals_:
                return new EqualsFilter(c.Key, ToCore(c.Equals_, field + ".equals"));
            case V1.FieldCondition.MatchOneofCase.AnyOf:
                if (c.AnyOf.Values.Count == 0) throw Invalid(field + ".any_of", "must contain at least one value");
                return new AnyOfFilter(c.Key, c.AnyOf.Values.Select((v, i) => ToCore(v, $"{field}.any_of.values[{i}]")).ToArray());
            case V1.FieldCondition.MatchOneofCase.Range:
                var r = c.Range;
                if (!r.HasGt && !r.HasGte && !r.HasLt && !r.HasLte) throw Invalid(field + ".range", "needs at least one of gt, gte, lt, lte");
                return new RangeFilter(c.Key, r.HasGt ? r.Gt : null, r.HasGte ? r.Gte : null, r.HasLt ? r.Lt : null, r.HasLte ? r.Lte : null);
            case V1.FieldCondition.MatchOneofCase.Exists:
                return c.Exists ? new ExistsFilter(c.Key) : new NotFilter(new ExistsFilter(c.Key));
            default:
                throw Invalid(field, $"condition on '{c.Key}' has an unknown or missing type (expected equals, any_of, range or exists)");
        }
    }

    public static V1.SearchResponse ToProto(SearchResult result)
    {
        var response = new V1.SearchResponse
        {
            Reranked = result.Reranked,
            IndexUsed = result.IndexUsed,
            Timings = new V1.StageTimings
            {
                EmbedUs = (ulong)result.Timings.EmbedUs,
                AnnUs = (ulong)result.Timings.AnnUs,
                FetchUs = (ulong)result.Timings.FetchUs,
                RerankUs = (ulong)result.Timings.RerankUs,
                TotalUs = (ulong)result.Timings.TotalUs,
            },
        };
        foreach (var h in result.Hits)
        {
            var hit = new V1.SearchHit { Id = h.Id, Score = h.Score, AnnScore = h.AnnScore, AnnRank = (uint)h.AnnRank };
            if (h.RerankScore is { } rs) hit.RerankScore = rs;
            if (h.Text is not null) hit.Text = h.Text;
            if (h.Metadata is not null) CopyTo(h.Metadata, hit.Metadata);
            if (h.Vector is not null) hit.Vector.AddRange(h.Vector);
            response.Hits.Add(hit);
        }
        return response;
    }

    private static int ToInt(uint value, string field) =>
        value <= int.MaxValue ? (int)value : throw Invalid(field, $"{value} is too large");

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private static EngineException Invalid(string field, string message) =>
        new(EngineErrorKind.InvalidArgument, $"{field}: {message}", field);
}
