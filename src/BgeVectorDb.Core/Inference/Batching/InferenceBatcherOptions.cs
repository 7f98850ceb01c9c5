namespace BgeVectorDb.Core.Inference.Batching;

/// <summary>How <see cref="InferenceBatcher{TResult}"/> groups rows into model runs.</summary>
public sealed class InferenceBatcherOptions
{
    /// <summary>Upper bound of padded tokens per run (rows × longest row). Default 16384. A single row
    /// longer than this still runs, alone.</summary>
    public int MaxBatchTokens { get; set; } = 16384;

    /// <summary>Upper bound of rows per run. Default 256.</summary>
    public int MaxBatchRows { get; set; } = 256;

    /// <summary>How many runs' worth of pending rows (in token-budget units) are sorted by length together.
    /// Rows are taken oldest request first; a larger window cuts more padding but makes a request that
    /// arrives behind a large one wait longer. Default 8.</summary>
    public int SortWindowBatches { get; set; } = 8;

    internal InferenceBatcherOptions Clone() => (InferenceBatcherOptions)MemberwiseClone();

    internal void Validate()
    {
        if (MaxBatchTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchTokens), MaxBatchTokens, "must be >= 1");
        }

        if (MaxBatchRows < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchRows), MaxBatchRows, "must be >= 1");
        }

        if (SortWindowBatches < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(SortWindowBatches), SortWindowBatches, "must be >= 1");
        }
    }
}
