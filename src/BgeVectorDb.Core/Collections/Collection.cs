using System.Diagnostics;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Index.Hnsw;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Reranking;
using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Collections;

/// <summary>Result of an upsert batch: counts and the WAL position that made it durable.</summary>
public sealed record UpsertResult(int Upserted, int Replaced, long WalPosition);

public sealed record DeleteResult(int Deleted, long WalPosition);

/// <summary>Figures of one collection. <paramref name="DiskBytes"/> counts every file of the collection (WAL, FasterKV
/// store, checkpoints); <paramref name="WalBytes"/> only the live WAL; <paramref name="CheckpointWalPosition"/> is the WAL
/// position the last checkpoint covers (0 before the first).</summary>
public sealed record CollectionStatistics(long Documents, long Deleted, int Dimension, string IndexKind, long MemoryBytes, long DiskBytes, long WalTail,
    long CheckpointWalPosition = 0, long WalBytes = 0);

/// <summary>
/// One collection: its config, documents, vectors and their index, and the search/mining read API. Writes are
/// validated whole and embedded outside any lock, then handed to Storage's <see cref="DurableApplier"/>, which logs
/// them (durable) and calls back to apply them under a short write lock; searches share a read lock. Checkpoints,
/// snapshots and recovery are Storage's (<see cref="Checkpointer"/>, <see cref="CollectionRecovery"/>), reaching this
/// collection through <see cref="IDurableState"/> (<c>Collection.Persistence.cs</c>).
/// </summary>
public sealed partial class Collection : IAsyncDisposable
{
    private readonly EngineLimits _limits;
    private readonly DurableApplier _applier;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, int> _idMap = new(StringComparer.Ordinal);
    private readonly List<Record?> _records = [];
    private readonly IVectorIndex _index;
    private long _deletedTotal;

    internal Collection(string name, CollectionConfig config, long createdAtMs, ITextEmbedder? embedder, IReranker? reranker,
        EngineLimits limits, IWriteAheadLog? wal)
    {
        Name = name;
        Config = config;
        CreatedAtMs = createdAtMs;
        Embedder = embedder;
        Reranker = reranker;
        _limits = limits;
        _applier = new DurableApplier(name, wal, Deleted);
        _index = new HnswIndex(config.Dimension, config.Distance, config.Hnsw.M, config.Hnsw.EfConstruction, config.Hnsw.EfSearch);
    }

    public string Name { get; }

    public CollectionConfig Config { get; }

    public long CreatedAtMs { get; }

    public ITextEmbedder? Embedder { get; }

    public IReranker? Reranker { get; }

    public long Count
    {
        get
        {
            _lock.EnterReadLock();
            try { return _idMap.Count; }
            finally { _lock.ExitReadLock(); }
        }
    }

    /// <summary>The collection's folder on disk (null in memory); set by the catalog.</summary>
    internal string? Folder { get; set; }

    public CollectionStatistics GetStatistics()
    {
        var disk = Folder is null ? 0 : CollectionLayout.DiskBytes(Folder);
        var checkpointPosition = LastCheckpoint.WalPosition;
        _lock.EnterReadLock();
        try
        {
            return new CollectionStatistics(_idMap.Count, _deletedTotal, Config.Dimension, _index.Kind, _index.MemoryBytes,
                disk, Wal?.TailPosition ?? 0, checkpointPosition, Wal?.SizeBytes ?? 0);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Inserts or replaces a batch. Returns once the batch is durable and visible. A rejected
    /// batch writes nothing.</summary>
    public async Task<UpsertResult> UpsertAsync(IReadOnlyList<Document> documents, CancellationToken cancellationToken = default)
    {
        DocumentValidator.ValidateBatch(documents, Config, _limits);
        var prepared = await PrepareAsync(documents, cancellationToken).ConfigureAwait(false);
        var replacedTotal = 0;
        var position = 0L;
        // One WAL entry must fit in one FasterLog page: a larger batch is logged and applied in parts, in order; the
        // call returns once every part is durable and applied.
        foreach (var part in UpsertEntry.Split(prepared))
        {
            (position, var replaced) = await _applier.LogThenApplyAsync(part, () => ApplyUpsert(part.Documents), cancellationToken).ConfigureAwait(false);
            replacedTotal += replaced;
        }
        return new UpsertResult(prepared.Length, replacedTotal, position);
    }

    /// <summary>Deletes documents by id; unknown ids are ignored. Durable on return.</summary>
    public async Task<DeleteResult> DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        DocumentValidator.ValidateIds(ids, _limits);
        var (position, deleted) = await _applier.LogThenApplyAsync(new DeleteEntry(ids.ToArray()), () => ApplyDelete(ids), cancellationToken).ConfigureAwait(false);
        return new DeleteResult(deleted, position);
    }

    /// <summary>Reads documents by id, in request order; ids not found are listed separately.</summary>
    public (IReadOnlyList<StoredDocument> Found, IReadOnlyList<string> Missing) Get(IReadOnlyList<string> ids, ReturnFields fields)
    {
        DocumentValidator.ValidateIds(ids, _limits);
        var found = new List<StoredDocument>(ids.Count);
        var missing = new List<string>();
        _lock.EnterReadLock();
        try
        {
            foreach (var id in ids)
            {
                // A document of a batch still being linked into the index has no vector yet: it is not
                // visible until its write completes.
                var vector = fields.Vector ? new float[Config.Dimension] : [];
                if (_idMap.TryGetValue(id, out var internalId) && _records[internalId] is { } r
                    && (!fields.Vector || _index.TryGetVector(internalId, vector)))
                {
                    found.Add(new StoredDocument(r.Id, fields.Text ? r.Text : "", fields.Metadata ? r.Metadata : Document.NoMetadata, vector));
                }
                else
                {
                    missing.Add(id);
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return (found, missing);
    }

    /// <summary>Applies logged entries during recovery (no validation, no logging).</summary>
    void IDurableState.Replay(WalEntry entry)
    {
        switch (entry)
        {
            case UpsertEntry u: ApplyUpsert(u.Documents); break;
            case DeleteEntry d: ApplyDelete(d.Ids); break;
            default: throw new InvalidDataException($"unknown WAL entry {entry.GetType().Name}");
        }
    }

    private async Task<StoredDocument[]> PrepareAsync(IReadOnlyList<Document> documents, CancellationToken cancellationToken)
    {
        var vectors = new float[documents.Count][];
        var toEmbed = new List<int>();
        for (var i = 0; i < documents.Count; i++)
        {
            if (documents[i].Vector is { Length: > 0 } v) vectors[i] = (float[])v.Clone();
            else toEmbed.Add(i);
        }
        if (toEmbed.Count > 0)
        {
            var embedder = Embedder ?? throw new EngineException(EngineErrorKind.FailedPrecondition, $"collection '{Name}' has no embedding model");
            var embedded = await embedder.EmbedDocumentsAsync(toEmbed.Select(i => documents[i].Text).ToArray(), cancellationToken).ConfigureAwait(false);
            for (var j = 0; j < toEmbed.Count; j++)
            {
                if (embedded[j].Length != Config.Dimension)
                {
                    throw new EngineException(EngineErrorKind.Internal, $"embedding model returned {embedded[j].Length} dimensions, collection expects {Config.Dimension}");
                }
                vectors[toEmbed[j]] = embedded[j];
            }
        }
        var prepared = new StoredDocument[documents.Count];
        for (var i = 0; i < documents.Count; i++)
        {
            if (Config.Distance == DistanceKind.Cosine) VectorMath.NormalizeInPlace(vectors[i]);
            var d = documents[i];
            prepared[i] = new StoredDocument(d.Id, d.Text, d.Metadata, vectors[i]);
        }
        return prepared;
    }

    private int ApplyUpsert(IReadOnlyList<StoredDocument> documents)
    {
        var internalIds = new int[documents.Count];
        var replaced = 0;
        _lock.EnterWriteLock();
        try
        {
            for (var i = 0; i < documents.Count; i++)
            {
                var d = documents[i];
                if (_idMap.TryGetValue(d.Id, out var internalId))
                {
                    replaced++;
                }
                else
                {
                    // Internal ids are never reused: a deleted id stays a tombstone in the HNSW graph.
                    internalId = _records.Count;
                    _records.Add(null);
                    _idMap[d.Id] = internalId;
                }
                _records[internalId] = new Record(d.Id, d.Text, d.Metadata);
                internalIds[i] = internalId;
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
        // Linking points into the graph is the expensive part: it runs outside the collection lock, so
        // searches go on meanwhile (a new point is found once linked; a replaced one scores by its old or
        // its new vector, never a mix: the index rewrites vectors under a per-node seqlock), and on every
        // core (the index takes concurrent upserts; ids are unique within a batch, the validator sees to
        // that). Applies run one at a time in log order, so a checkpoint's cut still sees whole batches;
        // nodes and the neighbours whose links changed are marked for it once linked.
        if (documents.Count == 1) _index.Upsert(internalIds[0], documents[0].Vector);
        else Parallel.For(0, documents.Count, i => _index.Upsert(internalIds[i], documents[i].Vector));
        _lock.EnterWriteLock();
        try
        {
            foreach (var id in internalIds) TrackWrite(id);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
        return replaced;
    }

    private int ApplyDelete(IReadOnlyList<string> ids)
    {
        var deleted = 0;
        _lock.EnterWriteLock();
        try
        {
            foreach (var id in ids)
            {
                if (!_idMap.Remove(id, out var internalId)) continue;
                _records[internalId] = null;
                TrackWrite(internalId);
                _index.Delete(internalId);
                deleted++;
            }
            _deletedTotal += deleted;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
        return deleted;
    }

    private float[] ReadVector(int internalId)
    {
        var v = new float[Config.Dimension];
        _index.TryGetVector(internalId, v);
        return v;
    }

    /// <summary>Closes the collection (it was deleted, or the catalog closes). Writes already logged finish and
    /// are acked (<see cref="DurableApplier.CloseAsync"/>); later writes fail with NOT_FOUND ("was deleted"), or UNAVAILABLE when the server is shutting down;
    /// searches of the in-memory index still answer. A checkpoint or snapshot in progress finishes first: it still
    /// uses the store and the WAL.</summary>
    public ValueTask DisposeAsync() => DisposeAsync(shuttingDown: false);

    internal async ValueTask DisposeAsync(bool shuttingDown)
    {
        if (shuttingDown) _shuttingDown = true;
        if (_checkpointer is not null) await _checkpointer.CloseAsync().ConfigureAwait(false);
        else await _applier.CloseAsync().ConfigureAwait(false);
        // The lock is not disposed: callers that still hold this object get NOT_FOUND or an answer from memory,
        // never ObjectDisposedException.
    }

    private volatile bool _shuttingDown;

    private EngineException Deleted() => _shuttingDown
        ? new(EngineErrorKind.Unavailable, $"collection '{Name}' is closed: the server is shutting down; this request was not applied")
        : new(EngineErrorKind.NotFound, $"collection '{Name}' was deleted; this request was not applied");

    private static long ElapsedUs(long start) => (long)Stopwatch.GetElapsedTime(start).TotalMicroseconds;

    private sealed record Record(string Id, string Text, IReadOnlyDictionary<string, MetadataValue> Metadata);
}
