using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Collections;

/// <summary>
/// The collection's side of durability. The protocol itself lives in Storage: <see cref="DurableApplier"/> logs a
/// write then applies it, <see cref="Checkpointer"/> owns the dirty set, the checkpoint cut, pruning and snapshots,
/// <see cref="CollectionRecovery"/> loads a checkpoint and replays the WAL. They reach this collection only through
/// <see cref="IDurableState"/>: apply a logged write, load stored documents, copy the documents of a cut.
/// </summary>
public sealed partial class Collection : IDurableState
{
    // Null for an in-memory collection; set once by recovery, before the WAL is replayed.
    private Checkpointer? _checkpointer;

    /// <summary>Documents written (upserted or deleted) since the last checkpoint.</summary>
    public long WritesSinceCheckpoint => _applier.Writes;

    public TimeSpan SinceLastCheckpoint => _checkpointer?.SinceLastCheckpoint ?? TimeSpan.Zero;

    /// <summary>Sequence number of the last checkpoint (0 when none).</summary>
    public long CheckpointSequence => _checkpointer?.Sequence ?? 0;

    /// <summary>The store's checkpoint timeout (Storage:CheckpointTimeoutSeconds); null for an in-memory collection.</summary>
    internal TimeSpan? CheckpointStoreTimeout => _checkpointer?.Store?.CheckpointTimeout;

    internal IWriteAheadLog? Wal => _applier.Wal;

    /// <summary>The collection's checkpointer (null for an in-memory collection): tests inspect its store generations.</summary>
    internal Checkpointer? Checkpointer => _checkpointer;

    internal Index.IVectorIndex Index => _index;

    /// <summary>Marks the node of <paramref name="internalId"/> (and its neighbours) for the next checkpoint. Called
    /// under the write lock, after the index has applied the write.</summary>
    private void TrackWrite(int internalId) => _checkpointer?.MarkWritten(internalId);

    /// <summary>
    /// Makes the collection durable in its FasterKV store up to now (<see cref="Checkpointer.CheckpointAsync"/>):
    /// writes are held only for the consistent cut; FASTER then flushes while writes continue. Null for an in-memory
    /// collection, or one closed meanwhile.
    /// </summary>
    public async Task<CheckpointResult?> CheckpointAsync(CancellationToken cancellationToken = default)
    {
        if (_checkpointer is not { } checkpointer) return null;
        return await checkpointer.CheckpointAsync(cancellationToken).ConfigureAwait(false);
    }

    DurableApplier IDurableState.Applier => _applier;

    Index.IVectorIndex IDurableState.Index => _index;

    long IDurableState.Documents => Count;

    int IDurableState.Slots
    {
        get
        {
            _lock.EnterReadLock();
            try { return _records.Count; }
            finally { _lock.ExitReadLock(); }
        }
    }

    void IDurableState.Attach(Checkpointer checkpointer) => _checkpointer = checkpointer;

    void IDurableState.LoadDocument(DocumentRecord d)
    {
        _lock.EnterWriteLock();
        try
        {
            while (_records.Count <= d.InternalId) _records.Add(null);
            _records[d.InternalId] = new Record(d.Id, d.Text, d.Metadata);
            if (!_idMap.TryAdd(d.Id, d.InternalId)) throw new InvalidDataException($"document '{d.Id}' is stored twice");
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    void IDurableState.CompleteLoad(MetaRecord meta)
    {
        _lock.EnterWriteLock();
        try
        {
            while (_records.Count < meta.Slots) _records.Add(null);
            _deletedTotal = meta.DeletedTotal;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
        RestoreCheckpointPosition(meta.WalPosition);
    }

    CutCounts IDurableState.WriteDocuments(IReadOnlyCollection<int> dirty, CollectionStore.Writer writer, bool fresh)
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var id in dirty)
            {
                if (id < _records.Count && _records[id] is { } r) writer.PutDocument(id, r.Id, r.Text, r.Metadata);
                else if (!fresh) writer.DeleteDocument(id);
            }
            return new CutCounts(_idMap.Count, _deletedTotal, _records.Count);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    void IDurableState.CheckpointCompleted(TimeSpan duration, long walPosition, long bytes) => RecordCheckpoint(duration, walPosition, bytes);
}
