using System.Globalization;
using System.Text.Json;
using BgeVectorDb.Core.Errors;

namespace BgeVectorDb.Core.Beir;

/// <summary>A BEIR corpus line: <c>{"_id", "title"?, "text"}</c>.</summary>
public sealed record BeirDocument(string Id, string Title, string Text)
{
    /// <summary>The text that gets embedded: title + " " + text when the title is non-empty, else text (as
    /// BEIR's and MTEB's dense evaluations join them).</summary>
    public string FullText => Title.Length > 0 ? Title + " " + Text : Text;
}

/// <summary>A BEIR queries.jsonl line: <c>{"_id", "text"}</c>.</summary>
public sealed record BeirQuery(string Id, string Text);

/// <summary>A qrels line: query id, corpus id, graded relevance (0 = judged not relevant).</summary>
public readonly record struct BeirQrel(string QueryId, string DocId, int Relevance);

/// <summary>
/// Reads a BEIR folder: <c>corpus.jsonl</c>, <c>queries.jsonl</c> and <c>qrels/{split}.tsv</c>
/// (<c>query-id TAB corpus-id TAB score</c>, an optional header line starting with "query-id").
/// Ids may be JSON strings or integers (taken as their text). Blank lines are skipped. A malformed line
/// throws <see cref="EngineException"/> (InvalidArgument) whose field is <c>file:line</c>.
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
        return Lines(path, "{\"_id\": str, \"title\": str?, \"text\": str}", root =>
            new BeirDocument(Id(root), OptionalString(root, "title"), RequiredString(root, "text")));
    }

    /// <summary>All queries, in file order.</summary>
    public static IReadOnlyList<BeirQuery> ReadQueries(string folder)
    {
        var path = Require(QueriesPath(folder), "queries");
        return Lines(path, "{\"_id\": str, \"text\": str}", root =>
            new BeirQuery(Id(root), RequiredString(root, "text"))).ToArray();
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

    private static string Id(JsonElement root) =>
        root.TryGetProperty("_id", out var id) && id.ValueKind switch
        {
            JsonValueKind.String => id.GetString()!.Length > 0,
            JsonValueKind.Number => true,
            _ => false,
        }
            ? id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText()
            : throw new FormatException("\"_id\" missing or not a non-empty string/integer");

    private static string RequiredString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new FormatException($"\"{name}\" missing or not a string");

    private static string OptionalString(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? ""
        : v.ValueKind == JsonValueKind.String ? v.GetString()!
        : throw new FormatException($"\"{name}\" is not a string");

    private static EngineException Invalid(string field, string message) => new(EngineErrorKind.InvalidArgument, $"{field}: {message}", field);
}
