namespace BgeVectorDb.Core.Reranking;

/// <summary>A cross-encoder: one relevance score per (query, document) pair, higher is better.</summary>
public interface IReranker
{
    string ModelId { get; }

    /// <summary>Scores every document against the query in batched runs; same order as
    /// <paramref name="documents"/>. Raw logits, or sigmoid of them when the reranker is configured so.</summary>
    Task<float[]> ScoreAsync(string query, IReadOnlyList<string> documents, CancellationToken cancellationToken = default);
}
