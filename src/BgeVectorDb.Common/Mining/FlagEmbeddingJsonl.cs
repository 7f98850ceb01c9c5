using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using BgeVectorDb.Common.Errors;

namespace BgeVectorDb.Common.Mining;

/// <summary>
/// FlagEmbedding training lines: <c>{"query": str, "pos": [str], "neg": [str]?, ...}</c>.
/// <para>Reading keeps every other field (e.g. "prompt", "type") in order, for the output line; fields the
/// miner regenerates ("neg", "pos_scores", "neg_scores", "bgevdb") are not kept as extras.</para>
/// <para>Writing (one line, no newline, UTF-8 JSON without HTML escaping, deterministic): "query", "pos",
/// "neg", then "pos_scores" and "neg_scores" when scores were asked for, then the extra fields, then
/// "bgevdb" (FlagEmbedding ignores unknown fields):
/// <c>{"requested", "range": [start, end], "query_id"?, "pos_ids"?, "negatives": [{"id", "rank", "ann_score",
/// "rerank_score"?}], "counts": {...}, "false_negative_threshold"?, "shortfall"?}</c>. "shortfall" is present
/// exactly when "neg" has fewer than "requested" entries, and says why.</para>
/// </summary>
public static class FlagEmbeddingJsonl
{
    /// <summary>Name of the provenance field.</summary>
    public const string ProvenanceField = "bgevdb";

    private static readonly HashSet<string> Regenerated = new(StringComparer.Ordinal) { "query", "pos", "neg", "pos_scores", "neg_scores", ProvenanceField };

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    /// <summary>Parses one line. Errors are InvalidArgument naming <paramref name="field"/> (e.g. "line 12").</summary>
    public static MiningExample Parse(string line, long index, string field) =>
        FromObject(ParseObject(line, field, "expected a JSON object {\"query\": ..., \"pos\": [...]}"), index, field);

    /// <summary>Reads the fields of a parsed line (see <see cref="Parse"/>).</summary>
    public static MiningExample FromObject(JsonObject obj, long index, string field)
    {
        if (!obj.TryGetPropertyValue("query", out var q) || q is not JsonValue qv || !qv.TryGetValue<string>(out var query))
        {
            throw Invalid(field + ".query", "must be a string");
        }
        if (!obj.TryGetPropertyValue("pos", out var p) || p is null) throw Invalid(field + ".pos", "missing (a list of positive texts)");
        var pos = Strings(p, field + ".pos");
        IReadOnlyList<string>? neg = obj.TryGetPropertyValue("neg", out var n) && n is not null ? Strings(n, field + ".neg") : null;
        JsonObject? extra = null;
        foreach (var (key, value) in obj)
        {
            if (Regenerated.Contains(key)) continue;
            extra ??= [];
            extra[key] = value?.DeepClone();
        }
        return new MiningExample(index, query, pos, Neg: neg, Extra: extra);
    }

    /// <summary>Parses <paramref name="json"/> as a JSON object; InvalidArgument naming <paramref name="field"/>
    /// (<paramref name="notAnObject"/> when it is valid JSON but not an object).</summary>
    private static JsonObject ParseObject(string json, string field, string notAnObject)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new EngineException(EngineErrorKind.InvalidArgument, $"{field}: not valid JSON: {e.Message}", field, e);
        }
        return node as JsonObject ?? throw Invalid(field, notAnObject);
    }

    /// <summary>Parses a JSON object given as text (the extras of a request); null or empty = none.</summary>
    public static JsonObject? ParseExtra(string? json, string field)
    {
        if (string.IsNullOrEmpty(json)) return null;
        var obj = ParseObject(json, field, "expected a JSON object");
        foreach (var (key, _) in obj)
        {
            if (Regenerated.Contains(key)) throw Invalid(field, $"must not contain \"{key}\" (the miner writes it)");
        }
        return obj;
    }

    /// <summary>The extras as compact JSON text ("" when none).</summary>
    public static string ExtraJson(JsonObject? extra) => extra is null || extra.Count == 0 ? "" : extra.ToJsonString();

    /// <summary>Reads a JSONL file lazily (blank lines skipped; field "line N" in errors, 1-based).</summary>
    public static IEnumerable<MiningExample> ReadFile(string path)
    {
        long lineNumber = 0, index = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            yield return Parse(line, index++, $"{path}:{lineNumber}");
        }
    }

    /// <summary>The output line of a mined example (no trailing newline).</summary>
    public static string Format(MinedExample mined)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("query", mined.Query);
            w.WriteStartArray("pos");
            foreach (var p in mined.Pos) w.WriteStringValue(p);
            w.WriteEndArray();
            w.WriteStartArray("neg");
            foreach (var n in mined.Negatives) w.WriteStringValue(n.Text);
            w.WriteEndArray();
            if (mined.WithScores)
            {
                w.WriteStartArray("pos_scores");
                foreach (var s in mined.PosScores ?? []) w.WriteNumberValue(s);
                w.WriteEndArray();
                w.WriteStartArray("neg_scores");
                foreach (var n in mined.Negatives) w.WriteNumberValue(n.RerankScore ?? 0f);
                w.WriteEndArray();
            }
            if (mined.Source.Extra is { } extra)
            {
                foreach (var (key, value) in extra)
                {
                    w.WritePropertyName(key);
                    if (value is null) w.WriteNullValue();
                    else value.WriteTo(w);
                }
            }
            w.WriteStartObject(ProvenanceField);
            w.WriteNumber("requested", mined.Requested);
            w.WriteStartArray("range");
            w.WriteNumberValue(mined.RangeStart);
            w.WriteNumberValue(mined.RangeEnd);
            w.WriteEndArray();
            if (mined.Source.QueryId is { } qid) w.WriteString("query_id", qid);
            if (mined.Source.PosIds is { Count: > 0 } ids)
            {
                w.WriteStartArray("pos_ids");
                foreach (var id in ids) w.WriteStringValue(id);
                w.WriteEndArray();
            }
            w.WriteStartArray("negatives");
            foreach (var n in mined.Negatives)
            {
                w.WriteStartObject();
                w.WriteString("id", n.Id);
                w.WriteNumber("rank", n.Rank);
                w.WriteNumber("ann_score", n.AnnScore);
                if (n.RerankScore is { } rs) w.WriteNumber("rerank_score", rs);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            var c = mined.Counts;
            w.WriteStartObject("counts");
            w.WriteNumber("in_range", c.InRange);
            w.WriteNumber("examined", c.Examined);
            w.WriteNumber("dropped_positive", c.DroppedPositive);
            w.WriteNumber("dropped_query", c.DroppedQuery);
            w.WriteNumber("dropped_near_duplicate", c.DroppedNearDuplicate);
            w.WriteNumber("dropped_false_negative", c.DroppedFalseNegative);
            w.WriteEndObject();
            if (mined.FalseNegativeThreshold is { } t) w.WriteNumber("false_negative_threshold", t);
            if (mined.Shortfall is { } s2) w.WriteString("shortfall", s2);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string[] Strings(JsonNode node, string field)
    {
        if (node is not JsonArray array) throw Invalid(field, "must be a list of strings");
        var result = new string[array.Count];
        for (var i = 0; i < result.Length; i++)
        {
            if (array[i] is not JsonValue v || !v.TryGetValue<string>(out var s)) throw Invalid($"{field}[{i}]", "must be a string");
            result[i] = s;
        }
        return result;
    }

    private static EngineException Invalid(string field, string message) => new(EngineErrorKind.InvalidArgument, $"{field}: {message}", field);
}
