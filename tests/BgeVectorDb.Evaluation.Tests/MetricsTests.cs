using BgeVectorDb.Evaluation;

namespace BgeVectorDb.Evaluation.Tests;

/// <summary>Metric values computed by hand from trec_eval's definitions.</summary>
public class MetricsTests
{
    private static Dictionary<string, int> Judged(params (string Id, int Rel)[] j) => j.ToDictionary(x => x.Id, x => x.Rel);

    [Fact]
    public void Ndcg_binary_relevance_by_hand()
    {
        // Relevant a (rank 1) and c (rank 3); b unjudged. DCG = 1/log2(2) + 1/log2(4) = 1.5.
        // Ideal: two relevant docs at ranks 1, 2 = 1 + 1/log2(3) = 1.6309297535714575.
        var judgements = Judged(("a", 1), ("c", 1));
        Assert.Equal(1.5 / (1 + 1 / Math.Log2(3)), RetrievalMetrics.Ndcg(["a", "b", "c"], judgements, 10), 12);
        Assert.Equal(0.9197207891481876, RetrievalMetrics.Ndcg(["a", "b", "c"], judgements, 10), 12);
    }

    [Fact]
    public void Ndcg_uses_graded_gain_and_ideal_from_all_judged_documents()
    {
        // Grades: x=3, y=1, z=2 (z never retrieved), n=0 (judged not relevant).
        // Ranked n, y, x: DCG = 0 + 1/log2(3) + 3/log2(4) = 0.6309297535714575 + 1.5 = 2.1309297535714575.
        // Ideal 3, 2, 1: 3 + 2/log2(3) + 1/log2(4) = 3 + 1.2618595071429148 + 0.5 = 4.761859507142915.
        var judgements = Judged(("x", 3), ("y", 1), ("z", 2), ("n", 0));
        Assert.Equal(2.1309297535714575 / 4.761859507142915, RetrievalMetrics.Ndcg(["n", "y", "x"], judgements, 10), 12);
        Assert.Equal(0.447499501061509, RetrievalMetrics.Ndcg(["n", "y", "x"], judgements, 10), 12);
    }

    [Fact]
    public void Ndcg_cuts_both_the_run_and_the_ideal_at_k()
    {
        // k = 2: DCG of [b, a] = 0 + 1/log2(3); ideal of three relevant docs cut at 2 = 1 + 1/log2(3).
        var judgements = Judged(("a", 1), ("c", 1), ("d", 1));
        Assert.Equal((1 / Math.Log2(3)) / (1 + 1 / Math.Log2(3)), RetrievalMetrics.Ndcg(["b", "a", "c"], judgements, 2), 12);
        Assert.Equal(0.38685280723454163, RetrievalMetrics.Ndcg(["b", "a", "c"], judgements, 2), 12);
    }

    [Fact]
    public void Recall_and_reciprocal_rank_by_hand()
    {
        var judgements = Judged(("a", 1), ("c", 2), ("d", 1), ("n", 0));
        string[] ranked = ["n", "b", "c", "a"];
        Assert.Equal(2.0 / 3, RetrievalMetrics.Recall(ranked, judgements, 100), 12);
        Assert.Equal(1.0 / 3, RetrievalMetrics.Recall(ranked, judgements, 3), 12);
        Assert.Equal(1.0 / 3, RetrievalMetrics.ReciprocalRank(ranked, judgements, 10), 12);
        Assert.Equal(0.0, RetrievalMetrics.ReciprocalRank(ranked, judgements, 2));
        // relevance level 2 (TREC DL's binary cut): only c is relevant.
        Assert.Equal(1.0, RetrievalMetrics.Recall(ranked, judgements, 100, relevanceLevel: 2), 12);
    }

    [Fact]
    public void Ties_are_broken_by_document_id_descending_as_trec_eval_does()
    {
        var order = RetrievalMetrics.TrecOrder([new("a", 0.5f), new("c", 0.9f), new("b", 0.5f), new("d", 0.5f)]);
        Assert.Equal(["c", "d", "b", "a"], order.Select(d => d.Id));

        // The tie decides the metric: relevant a ties with b; trec_eval ranks b first, so MRR = 1/2.
        var run = new Dictionary<string, IReadOnlyList<ScoredDoc>> { ["q"] = [new("a", 1f), new("b", 1f)] };
        var qrels = new Dictionary<string, Dictionary<string, int>> { ["q"] = Judged(("a", 1)) };
        var scores = RetrievalMetrics.Evaluate(run, qrels);
        Assert.Equal(0.5, scores.MrrAt10, 12);
        Assert.Equal(1 / Math.Log2(3), scores.NdcgAt10, 12);
    }

    [Fact]
    public void Evaluate_averages_over_queries_with_relevant_judgements_only()
    {
        var run = new Dictionary<string, IReadOnlyList<ScoredDoc>>
        {
            ["q1"] = [new("a", 0.9f), new("b", 0.8f)],   // a relevant at rank 1: nDCG 1, recall 1, RR 1
            ["q2"] = [new("x", 0.9f), new("y", 0.1f)],   // y relevant at rank 2: nDCG 1/log2(3), recall 1, RR 1/2
            ["q3"] = [new("a", 0.9f)],                    // only a judged-0 doc: skipped
        };
        var qrels = new Dictionary<string, Dictionary<string, int>>
        {
            ["q1"] = Judged(("a", 1)),
            ["q2"] = Judged(("y", 1), ("z", 1)),         // z never retrieved: recall 1/2; ideal two docs
            ["q3"] = Judged(("a", 0)),
            ["q4"] = Judged(("k", 1)),                   // judged but no run: counts as 0
        };
        var s = RetrievalMetrics.Evaluate(run, qrels);
        Assert.Equal(3, s.Queries);
        var ndcgQ2 = (1 / Math.Log2(3)) / (1 + 1 / Math.Log2(3));
        Assert.Equal((1 + ndcgQ2 + 0) / 3, s.NdcgAt10, 12);
        Assert.Equal((1 + 0.5 + 0) / 3, s.RecallAt100, 12);
        Assert.Equal((1 + 0.5 + 0) / 3, s.MrrAt10, 12);
    }

    [Fact]
    public void Exact_retrieval_orders_by_dot_product_then_id_descending()
    {
        var exact = new ExactRetrieval(["a", "b", "c"], [[1f, 0f], [0f, 1f], [0f, 1f]]);
        var hits = exact.Search([0.6f, 0.8f], 2);
        Assert.Equal(["c", "b"], hits.Select(h => h.Id));
        Assert.Equal(0.8f, hits[0].Score, 6);
    }
}
