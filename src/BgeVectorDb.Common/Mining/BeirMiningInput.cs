using BgeVectorDb.Common.Beir;
using BgeVectorDb.Common.Errors;

namespace BgeVectorDb.Common.Mining;

/// <summary>
/// Mining input from a BEIR folder (read by <see cref="BeirReader"/>): one example per query id with a
/// positive judgement (score &gt; 0), in order of first appearance in the qrels file; its corpus ids become
/// <see cref="MiningExample.PosIds"/> (ids of documents in the collection).
/// </summary>
public static class BeirMiningInput
{
    /// <summary>The qrels file of a split: <c>{folder}/qrels/{split}.tsv</c>.</summary>
    public static string QrelsPath(string folder, string split) => BeirReader.QrelsPath(folder, split);

    /// <summary>Reads the examples (queries.jsonl is loaded whole; qrels are grouped by query).</summary>
    public static IReadOnlyList<MiningExample> Read(string folder, string split)
    {
        var queriesPath = BeirReader.QueriesPath(folder);
        var qrelsPath = BeirReader.QrelsPath(folder, split);
        if (!File.Exists(queriesPath)) throw new FileNotFoundException($"{queriesPath}: BEIR queries file not found", queriesPath);
        if (!File.Exists(qrelsPath)) throw new FileNotFoundException($"{qrelsPath}: BEIR qrels file not found", qrelsPath);

        var queries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var q in BeirReader.ReadQueries(folder)) queries[q.Id] = q.Text;

        var order = new List<string>();
        var positives = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var qrel in BeirReader.ReadQrels(folder, split))
        {
            if (qrel.Relevance <= 0) continue;
            if (!positives.TryGetValue(qrel.QueryId, out var list))
            {
                if (!queries.ContainsKey(qrel.QueryId))
                {
                    throw new EngineException(EngineErrorKind.InvalidArgument, $"{qrelsPath}: query '{qrel.QueryId}' is not in {queriesPath}", qrelsPath);
                }
                positives[qrel.QueryId] = list = [];
                order.Add(qrel.QueryId);
            }
            if (!list.Contains(qrel.DocId)) list.Add(qrel.DocId);
        }
        return order.Select((id, i) => new MiningExample(i, queries[id], [], positives[id], QueryId: id)).ToArray();
    }
}
