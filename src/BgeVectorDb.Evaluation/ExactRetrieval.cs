using System.Numerics.Tensors;

namespace BgeVectorDb.Evaluation;

/// <summary>Exact dense retrieval: the dot product of the query with every document vector (cosine for
/// unit vectors), top k in trec_eval order. The reference the engine's HNSW index is measured against.</summary>
public sealed class ExactRetrieval
{
    private readonly string[] _ids;
    private readonly float[][] _vectors;

    public ExactRetrieval(IReadOnlyList<string> ids, IReadOnlyList<float[]> vectors)
    {
        if (ids.Count != vectors.Count) throw new ArgumentException($"{ids.Count} ids but {vectors.Count} vectors");
        _ids = ids.ToArray();
        _vectors = vectors.ToArray();
    }

    public int Count => _ids.Length;

    /// <summary>The k best documents for <paramref name="query"/>, best first (ties: id descending).</summary>
    public ScoredDoc[] Search(float[] query, int k)
    {
        var all = new ScoredDoc[_ids.Length];
        for (var i = 0; i < all.Length; i++) all[i] = new ScoredDoc(_ids[i], TensorPrimitives.Dot<float>(query, _vectors[i]));
        var sorted = RetrievalMetrics.TrecOrder(all);
        return sorted.Length <= k ? sorted : sorted[..k];
    }
}
