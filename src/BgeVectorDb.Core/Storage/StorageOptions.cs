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
        if (StoreRewriteWalBytes < 1)
        {
            problems.Add($"{Section}:{nameof(StoreRewriteWalBytes)} must be at least 1 (bytes), got {StoreRewriteWalBytes}");
        }
        return problems;
    }

    /// <summary>Checkpoint a collection with pending writes at least this often, in seconds; 0 = never
    /// on a timer. Default 60.</summary>
    public int CheckpointIntervalSeconds { get; init; } = 60;

    /// <summary>Checkpoint a collection once this many documents were written (upserted or deleted)
    /// since its last checkpoint; 0 = never on a count. Default 100,000.</summary>
    public long CheckpointEveryWrites { get; init; } = 100_000;

    /// <summary>Keep the whole WAL forever. By default (false) the WAL is truncated behind the previous store
    /// generation's last checkpoint (see <see cref="StoreRewriteWalBytes"/>), which is what keeps disk use bounded while
    /// one damaged store record can still be rebuilt: the previous generation shares no file with the current one, and
    /// the WAL from its checkpoint on is kept. True keeps every WAL entry (disk grows with every write). Default false.</summary>
    public bool KeepWholeWal { get; init; }

    /// <summary>A collection's store is rewritten into a new generation (a fresh FasterKV store holding only the live
    /// records, written in chunks while writes go on) once the WAL written since the previous generation's last
    /// checkpoint exceeds the larger of this and the live size of the current generation when it was written. The
    /// previous generation is then deleted, the current one becomes the fallback, and the WAL is truncated behind the
    /// fallback's last checkpoint. Bounds disk use to about: WAL &lt;= max(this, live size) + one checkpoint interval of
    /// writes + one 32 MiB WAL segment; two stores of at most live size + that much garbage each. Default 64 MiB.</summary>
    public long StoreRewriteWalBytes { get; init; } = 64L << 20;

    /// <summary>Longest wait for FASTER to finish one store checkpoint, in seconds; a checkpoint still running then is
    /// abandoned (it fails with UNAVAILABLE, the store is dropped with its last good checkpoint kept as the fallback, the
    /// next checkpoint writes a new generation, and the WAL keeps every write). A checkpoint on a volume that stays nearly full is given up after about a second regardless. Default 600.</summary>
    public int CheckpointTimeoutSeconds { get; init; } = 600;

    /// <summary>Checkpoint every collection when the catalog closes (graceful shutdown), until the shutdown deadline
    /// (<see cref="Collections.CollectionCatalog.CloseAsync"/>). Default true.</summary>
    public bool CheckpointOnShutdown { get; init; } = true;
}
