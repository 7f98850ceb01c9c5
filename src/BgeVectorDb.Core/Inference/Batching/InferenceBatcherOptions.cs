namespace BgeVectorDb.Core.Inference.Batching;

/// <summary>How <see cref="InferenceBatcher{TResult}"/> groups rows into model runs and admits requests.</summary>
public sealed class InferenceBatcherOptions
{
    // The one place these defaults are defined (the server's Inference section and the embedder/reranker options use them).
    public const int DefaultMaxBatchTokens = 16384;
    public const int DefaultMaxBatchRows = 256;
    public const long DefaultMaxQueuedTokens = 4L * 1024 * 1024;
    public const int DefaultStarvationLimit = 4;
    public const int DefaultIngestBatchMilliseconds = 250;

    /// <summary>Upper bound of padded tokens per run (rows × longest row). Default 16384. A single row
    /// longer than this still runs, alone.</summary>
    public int MaxBatchTokens { get; set; } = DefaultMaxBatchTokens;

    /// <summary>Upper bound of rows per run. Default 256.</summary>
    public int MaxBatchRows { get; set; } = DefaultMaxBatchRows;

    /// <summary>How many runs' worth of pending rows (in token-budget units) of one priority lane are sorted by
    /// length together. Rows are taken oldest request first; a larger window cuts more padding but makes a request
    /// that arrives behind a large one of the same lane wait longer. Default 8.</summary>
    public int SortWindowBatches { get; set; } = 8;

    /// <summary>Bound of the queue: tokens of rows waiting (queued, not yet in a running batch) over all lanes.
    /// A request that would pass it fails at once with EngineException ResourceExhausted (RESOURCE_EXHAUSTED on
    /// the wire); a request larger than the whole bound is admitted only when nothing waits, so no request is
    /// impossible. Cancelled requests free their tokens at once. Default 4,194,304.</summary>
    public long MaxQueuedTokens { get; set; } = DefaultMaxQueuedTokens;

    /// <summary>Starvation protection: after this many consecutive batches of higher lanes ran while a lower lane
    /// had rows waiting, the next batch is that lane's. Default 4 (so bulk work keeps at least about a fifth of the
    /// batches under a steady query load).</summary>
    public int StarvationLimit { get; set; } = DefaultStarvationLimit;

    /// <summary>Target duration of an ingest-lane batch: its token budget is what this model runs in that time at
    /// its measured throughput (at least one row, at most <see cref="MaxBatchTokens"/>). A model run cannot be
    /// interrupted, so this bounds how long a query or rerank waits behind bulk work; on a fast device (GPU) ingest
    /// still gets the whole budget. Default 250 ms; 0 = ingest batches use the whole budget.</summary>
    public int IngestBatchMilliseconds { get; set; } = DefaultIngestBatchMilliseconds;

    internal InferenceBatcherOptions Clone() => (InferenceBatcherOptions)MemberwiseClone();

    internal void Validate()
    {
        Check(MaxBatchTokens >= 1, nameof(MaxBatchTokens), MaxBatchTokens);
        Check(MaxBatchRows >= 1, nameof(MaxBatchRows), MaxBatchRows);
        Check(SortWindowBatches >= 1, nameof(SortWindowBatches), SortWindowBatches);
        Check(MaxQueuedTokens >= 1, nameof(MaxQueuedTokens), MaxQueuedTokens);
        Check(StarvationLimit >= 1, nameof(StarvationLimit), StarvationLimit);
        if (IngestBatchMilliseconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(IngestBatchMilliseconds), IngestBatchMilliseconds, "must be >= 0");
        }
    }

    private static void Check(bool ok, string name, long value)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, value, "must be >= 1");
        }
    }
}
