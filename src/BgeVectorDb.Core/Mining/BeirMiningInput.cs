using System.Globalization;
using System.Text.Json;
using BgeVectorDb.Core.Errors;

namespace BgeVectorDb.Core.Mining;

/// <summary>
/// Mining input from a BEIR folder: queries.jsonl (<c>{"_id", "text"}</c>) and a qrels TSV
/// (<c>query-id corpus-id score</c>, header line). One example per query id with a positive judgement
/// (score &gt; 0), in order of first appearance in the qrels file; its corpus ids become
/// <see cref="MiningExample.PosIds"/> (ids of documents in the collection).
/// </summary>
public static class BeirMiningInput
{
    /// <summary>The qrels file of a split: <c>{folder}/qrels/{split}.tsv</c>.</summary>
    public static string QrelsPath(string folder, string split) => Path.Combine(folder, "qrels", split + ".tsv");

    /// <summary>Reads the examples (queries.jsonl is loaded whole; qrels are grouped by query).</summary>
    public static IReadOnlyList<MiningExample> Read(string folder, string split)
    {
        var queriesPath = Path.Combine(folder, "queries.jsonl");
        var qrelsPath = QrelsPath(folder, split);
        if (!File.Exists(queriesPath)) throw new FileNotFoundException($"{queriesPath}: BEIR queries file not found", queriesPath);
        if (!File.Exists(qrelsPath)) throw new FileNotFoundException($"{qrelsPath}: BEIR qrels file not found", qrelsPath);

        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(queriesPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                queries[doc.RootElement.GetProperty("_id").GetString()!] = doc.RootElement.GetProperty("text").GetString()!;
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw Invalid($"{queriesPath}:{lineNumber}", "expected {\"_id\": str, \"text\": str}: " + e.Message);
            }
        }

        var order = new List<string>();
        var positives = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        lineNumber = 0;
        foreach (var line in File.ReadLines(qrelsPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var cols = line.Split('\t');
            if (lineNumber == 1 && cols[0] == "query-id") continue;
            if (cols.Length < 3 || !double.TryParse(cols[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var score))
            {
                throw Invalid($"{qrelsPath}:{lineNumber}", "expected 'query-id<TAB>corpus-id<TAB>score'");
            }
            if (score <= 0) continue;
            if (!positives.TryGetValue(cols[0], out var list))
            {
                if (!queries.ContainsKey(cols[0])) throw Invalid($"{qrelsPath}:{lineNumber}", $"query '{cols[0]}' is not in {queriesPath}");
                positives[cols[0]] = list = [];
                order.Add(cols[0]);
            }
            if (!list.Contains(cols[1])) list.Add(cols[1]);
        }
        return order.Select((id, i) => new MiningExample(i, queries[id], [], positives[id], QueryId: id)).ToArray();
    }

    private static EngineException Invalid(string field, string message) => new(EngineErrorKind.InvalidArgument, $"{field}: {message}", field);
}
