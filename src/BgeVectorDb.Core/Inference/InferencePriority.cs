namespace BgeVectorDb.Core.Inference;

/// <summary>
/// Which lane of a model's inference scheduler a request joins. Lower values run first; the call site decides
/// (a query embedding is <see cref="Query"/>, a rerank is <see cref="Rerank"/>, document embedding and other
/// bulk work such as mining are <see cref="Ingest"/>). Starvation protection guarantees lower lanes progress
/// (see <see cref="Batching.InferenceBatcherOptions.StarvationLimit"/>).
/// </summary>
public enum InferencePriority
{
    /// <summary>Interactive query embedding: latency first.</summary>
    Query = 0,

    /// <summary>Cross-encoder scoring of a search's candidates.</summary>
    Rerank = 1,

    /// <summary>Bulk work: document embedding at ingest, mining and other background jobs.</summary>
    Ingest = 2,
}
