namespace BgeVectorDb.Core.Storage;

/// <summary>Section "Storage": when collections are checkpointed (besides the admin RPC and graceful
/// shutdown, which always checkpoint).</summary>
public sealed record StorageOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string Section = "Storage";

    /// <summary>What is wrong with these options, each naming its configuration key; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (CheckpointIntervalSeconds < 0)
        {
            problems.Add($"{Section}:{nameof(CheckpointIntervalSeconds)} must be 0 (never on a timer) or more, got {CheckpointIntervalSeconds}");
        }
        if (CheckpointEveryWrites < 0)
        {
            problems.Add($"{Section}:{nameof(CheckpointEveryWrites)} must be 0 (never on a count) or more, got {CheckpointEveryWrites}");
        }
        if (CheckpointTimeoutSeconds < 1)
        {
            problems.Add($"{Section}:{nameof(CheckpointTimeoutSeconds)} must be at least 1, got {CheckpointTimeoutSeconds}");
        }
        return problems;
    }

    /// <summary>Checkpoint a collection with pending writes at least this often, in seconds; 0 = never
    /// on a timer. Default 60.</summary>
    public int CheckpointIntervalSeconds { get; init; } = 60;

    /// <summary>Checkpoint a collection once this many documents were written (upserted or deleted)
    /// since its last checkpoint; 0 = never on a count. Default 100,000.</summary>
    public long CheckpointEveryWrites { get; init; } = 100_000;

    /// <summary>Keep the whole WAL instead of truncating it behind the older kept checkpoint. Both kept checkpoints
    /// share the FasterKV records written before them, so one damaged store record would otherwise take the
    /// collection offline; with the whole WAL, recovery rebuilds it by replay. Costs WAL disk space (about the
    /// size of the data written). Default true.</summary>
    public bool KeepWholeWal { get; init; } = true;

    /// <summary>Longest wait for FASTER to finish one store checkpoint, in seconds; a checkpoint still running then is
    /// abandoned (it fails with UNAVAILABLE, the store is reopened from the last good checkpoint and the WAL keeps every
    /// write). A checkpoint on a volume that stays nearly full is given up after about a second regardless. Default 600.</summary>
    public int CheckpointTimeoutSeconds { get; init; } = 600;

    /// <summary>Checkpoint every collection when the catalog closes (graceful shutdown), until the shutdown deadline
    /// (<see cref="Collections.CollectionCatalog.CloseAsync"/>). Default true.</summary>
    public bool CheckpointOnShutdown { get; init; } = true;
}
