namespace BgeVectorDb.Evaluation;

/// <summary>A retrieved document and its score.</summary>
public readonly record struct ScoredDoc(string Id, float Score);

/// <summary>Mean metrics over the evaluated queries.</summary>
/// <param name="NdcgAt10">Mean nDCG@10.</param>
/// <param name="RecallAt100">Mean recall@100.</param>
/// <param name="MrrAt10">Mean reciprocal rank of the first relevant document within the top 10.</param>
/// <param name="Queries">Queries averaged over (those with at least one relevant judgement).</param>
public sealed record RetrievalScores(double NdcgAt10, double RecallAt100, double MrrAt10, int Queries);

/// <summary>
/// Ranking metrics as trec_eval (and so pytrec_eval, BEIR and MTEB) defines them:
/// <list type="bullet">
/// <item>A run is ordered by score, highest first; equal scores are ordered by document id in
/// <em>descending</em> ordinal order (trec_eval's tie rule), whatever order the run came in.</item>
/// <item>nDCG@k: DCG = sum over ranks i = 1..k of gain_i / log2(i + 1) with gain = the qrel relevance of the
/// document (unjudged or relevance &lt;= 0: 0); the ideal DCG uses all judged documents with relevance &gt; 0 sorted
/// by relevance, cut at k.</item>
/// <item>recall@k: relevant documents (relevance &gt;= <c>relevanceLevel</c>, default 1) in the top k / all
/// relevant documents of the query.</item>
/// <item>MRR@k: 1 / rank of the first relevant document within the top k, else 0.</item>
/// <item>Queries without a relevant judgement are skipped; a judged query with no run scores 0 (trec_eval
/// -c; with a run for every query, as here, both agree).</item>
/// </list>
/// </summary>
public static class RetrievalMetrics
{
    /// <summary>trec_eval order: score descending, then document id descending (ordinal).</summary>
    public static ScoredDoc[] TrecOrder(IEnumerable<ScoredDoc> run)
    {
        var sorted = run.ToArray();
        Array.Sort(sorted, static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(b.Id, a.Id));
        return sorted;
    }

    /// <summary>nDCG@k of an already ranked list.</summary>
    public static double Ndcg(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judgements, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        double dcg = 0;
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (judgements.TryGetValue(ranked[i], out var rel) && rel > 0) dcg += rel / Math.Log2(i + 2);
        }
        var ideal = judgements.Values.Where(r => r > 0).OrderDescending().Take(k).ToArray();
        double idcg = 0;
        for (var i = 0; i < ideal.Length; i++) idcg += ideal[i] / Math.Log2(i + 2);
        return idcg > 0 ? dcg / idcg : 0;
    }

    /// <summary>recall@k of an already ranked list.</summary>
    public static double Recall(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judgements, int k, int relevanceLevel = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var relevant = judgements.Count(j => j.Value >= relevanceLevel);
        if (relevant == 0) return 0;
        var found = 0;
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (judgements.TryGetValue(ranked[i], out var rel) && rel >= relevanceLevel) found++;
        }
        return (double)found / relevant;
    }

    /// <summary>Reciprocal rank of the first relevant document within the top k of an already ranked list.</summary>
    public static double ReciprocalRank(IReadOnlyList<string> ranked, IReadOnlyDictionary<string, int> judgements, int k, int relevanceLevel = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        for (var i = 0; i < Math.Min(k, ranked.Count); i++)
        {
            if (judgements.TryGetValue(ranked[i], out var rel) && rel >= relevanceLevel) return 1.0 / (i + 1);
        }
        return 0;
    }

    /// <summary>Mean nDCG@10, recall@100 and MRR@10 of a run (query id -> scored documents, any order)
    /// against qrels (query id -> document id -> relevance).</summary>
    public static RetrievalScores Evaluate(
        IReadOnlyDictionary<string, IReadOnlyList<ScoredDoc>> run,
        IReadOnlyDictionary<string, Dictionary<string, int>> qrels,
        int relevanceLevel = 1)
    {
        double ndcg = 0, recall = 0, mrr = 0;
        var queries = 0;
        foreach (var (queryId, judgements) in qrels)
        {
            if (!judgements.Values.Any(r => r > 0)) continue;
            queries++;
            if (!run.TryGetValue(queryId, out var docs)) continue;
            var ranked = TrecOrder(docs).Select(d => d.Id).ToArray();
            ndcg += Ndcg(ranked, judgements, 10);
            recall += Recall(ranked, judgements, 100, relevanceLevel);
            mrr += ReciprocalRank(ranked, judgements, 10, relevanceLevel);
        }
        return queries == 0 ? new RetrievalScores(0, 0, 0, 0) : new RetrievalScores(ndcg / queries, recall / queries, mrr / queries, queries);
    }
}
