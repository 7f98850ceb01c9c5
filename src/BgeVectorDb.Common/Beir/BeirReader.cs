using System.Globalization;
using System.Text.Json;
using BgeVectorDb.Common.Errors;

namespace BgeVectorDb.Common.Beir;

/// <summary>A BEIR corpus line: <c>{"_id", "title"?, "text"}</c>.</summary>
public sealed record BeirDocument(string Id, string Title, string Text)
{
    /// <summary>The text that gets embedded: title + " " + text when both are non-empty, else the non-empty one
    /// (as BEIR's and MTEB's dense evaluations join them).</summary>
    public string FullText => Title.Length == 0 ? Text : Text.Length == 0 ? Title : Title + " " + Text;
}

/// <summary>A BEIR queries.jsonl line: <c>{"_id", "text"}</c>.</summary>
public sealed record BeirQuery(string Id, string Text);

/// <summary>A qrels line: query id, corpus id, graded relevance (0 = judged not relevant).</summary>
public readonly record struct BeirQrel(string QueryId, string DocId, int Relevance);

/// <summary>
/// Reads a BEIR folder: <c>corpus.jsonl</c>, <c>queries.jsonl</c> and <c>qrels/{split}.tsv</c>
/// (<c>query-id TAB corpus-id TAB score</c>, an optional header line starting with "query-id").
/// Ids may be JSON strings or integers (taken as their text). A corpus line may leave out "text" when it has a
/// "title". Blank lines are skipped. A malformed line throws <see cref="EngineException"/> (InvalidArgument)
/// whose field is <c>file:line</c>.
/// </summary>
public static class BeirReader
{
    public static string CorpusPath(string folder) => Path.Combine(folder, "corpus.jsonl");

    public static string QueriesPath(string folder) => Path.Combine(folder, "queries.jsonl");

    /// <summary>The qrels file of a split: <c>{folder}/qrels/{split}.tsv</c>.</summary>
    public static string QrelsPath(string folder, string split) => Path.Combine(folder, "qrels", split + ".tsv");

    /// <summary>The corpus, lazily, in file order.</summary>
    public static IEnumerable<BeirDocument> ReadCorpus(string folder)
    {
        var path = Require(CorpusPath(folder), "corpus");
        return Lines(path, "{\"_id\": str, \"title\": str?, \"text\": str}", ParseDocument);
    }

    /// <summary>One corpus object: <c>_id</c> (see <see cref="ReadId"/>), <c>title</c> (string or null/absent)
    /// and <c>text</c> (string, or null/absent when there is a title).</summary>
    /// <exception cref="FormatException">A field is missing or of the wrong type; the message names it.</exception>
    public static BeirDocument ParseDocument(JsonElement root)
    {
        var id = ReadId(root, "_id");
        var title = OptionalString(root, "title");
        var text = OptionalString(root, "text");
        if (title is null && text is null) throw new FormatException("missing \"text\"");
        return new BeirDocument(id, title ?? "", text ?? "");
    }

    /// <summary>A document id property: a non-empty string, or an integer taken as its invariant text.</summary>
    /// <exception cref="FormatException">Missing, empty or of another type; the message names <paramref name="name"/>.</exception>
    public static string ReadId(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var id)) throw new FormatException($"missing \"{name}\"");
        return id.ValueKind switch
        {
            JsonValueKind.String when id.GetString() is { Length: > 0 } text => text,
            JsonValueKind.Number when id.TryGetInt64(out var n) => n.ToString(CultureInfo.InvariantCulture),
            _ => throw new FormatException($"{name}: expected a non-empty string or an integer"),
        };
    }

    /// <summary>All queries, in file order.</summary>
    public static IReadOnlyList<BeirQuery> ReadQueries(string folder)
    {
        var path = Require(QueriesPath(folder), "queries");
        return Lines(path, "{\"_id\": str, \"text\": str}", root =>
            new BeirQuery(ReadId(root, "_id"), RequiredString(root, "text"))).ToArray();
    }

    /// <summary>The qrels of a split, in file order (header skipped).</summary>
    public static IReadOnlyList<BeirQrel> ReadQrels(string folder, string split)
    {
        var path = Require(QrelsPath(folder, split), "qrels");
        var result = new List<BeirQrel>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var cols = line.Split('\t');
            if (lineNumber == 1 && cols[0] == "query-id") continue;
            if (cols.Length < 3 || cols[0].Length == 0 || cols[1].Length == 0 ||
                !double.TryParse(cols[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var score) || score != Math.Floor(score))
            {
                throw Invalid($"{path}:{lineNumber}", "expected 'query-id<TAB>corpus-id<TAB>integer score'");
            }
            result.Add(new BeirQrel(cols[0], cols[1], (int)score));
        }
        return result;
    }

    /// <summary>Qrels grouped by query id: corpus id -> relevance (a repeated pair keeps its last grade).</summary>
    public static Dictionary<string, Dictionary<string, int>> GroupQrels(IEnumerable<BeirQrel> qrels)
    {
        var byQuery = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (var q in qrels)
        {
            if (!byQuery.TryGetValue(q.QueryId, out var docs)) byQuery[q.QueryId] = docs = new Dictionary<string, int>(StringComparer.Ordinal);
            docs[q.DocId] = q.Relevance;
        }
        return byQuery;
    }

    private static string Require(string path, string what) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"{path}: BEIR {what} file not found", path);

    private static IEnumerable<T> Lines<T>(string path, string expected, Func<JsonElement, T> parse)
    {
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var where = $"{path}:{lineNumber}";
            T item;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException("not a JSON object");
                item = parse(doc.RootElement);
            }
            catch (Exception e) when (e is JsonException or FormatException)
            {
                throw Invalid(where, $"expected {expected}: {e.Message}");
            }
            yield return item;
        }
    }

    private static string RequiredString(JsonElement root, string name) =>
        OptionalString(root, name) ?? throw new FormatException($"missing \"{name}\"");

    private static string? OptionalString(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()!
        : throw new FormatException($"{name}: expected a string, got {Describe(v.ValueKind)}");

    /// <summary>"a string", "an array", ... for messages about a JSON value of the wrong type (the CLI's too).</summary>
    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static EngineException Invalid(string field, string message) => new(EngineErrorKind.InvalidArgument, $"{field}: {message}", field);
}
