using BgeVectorDb.Core.Inference;

namespace BgeVectorDb.Core.Reranking;

/// <summary>A cross-encoder: one relevance score per (query, document) pair, higher is better.</summary>
public interface IReranker
{
    string ModelId { get; }

    /// <summary>Scores every document against the query in batched runs, at rerank priority (after query
    /// embedding, before ingest); same order as <paramref name="documents"/>. Any number of documents (split into
    /// batches by the scheduler). Raw logits, or sigmoid of them when the reranker is configured so.</summary>
    Task<float[]> ScoreAsync(string query, IReadOnlyList<string> documents, CancellationToken cancellationToken = default);

    /// <summary>Scores at the priority given (e.g. <see cref="InferencePriority.Ingest"/> for a mining job).
    /// Implementations without a scheduler ignore the priority.</summary>
    Task<float[]> ScoreAsync(string query, IReadOnlyList<string> documents, InferencePriority priority, CancellationToken cancellationToken = default) =>
        ScoreAsync(query, documents, cancellationToken);
}
