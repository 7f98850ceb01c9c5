using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Collections;

/// <summary>What a checkpoint covered.</summary>
public sealed record CheckpointResult(long Sequence, long WalPosition, long Documents, int RecordsWritten, TimeSpan WritesHeld, TimeSpan Elapsed);

public sealed partial class Collection : IDurableState
{
    private readonly SemaphoreSlim _checkpointGate = new(1, 1);

    // Internal ids whose document or index node changed since the last checkpoint (guarded by _lock).
    private HashSet<int> _dirty = [];
    private CollectionStore? _store;
    private long _checkpointSequence;
    private long _lastCheckpointMs = Environment.TickCount64;

    /// <summary>Documents written (upserted or deleted) since the last checkpoint.</summary>
    public long WritesSinceCheckpoint => _applier.Writes;

    public TimeSpan SinceLastCheckpoint => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastCheckpointMs));

    /// <summary>Sequence number of the last checkpoint (0 when none).</summary>
    public long CheckpointSequence => Interlocked.Read(ref _checkpointSequence);

    internal IWriteAheadLog? Wal => _applier.Wal;

    /// <summary>Truncate the WAL behind the older kept checkpoint (Storage:KeepWholeWal = false); set by the catalog.</summary>
    internal bool TruncateWal { get; set; }

    internal Index.IVectorIndex Index => _index;

    internal CollectionStore? Store => _store;

    /// <summary>Records that the node of <paramref name="internalId"/> (and the neighbours its links
    /// name, whose links an insert may have changed) must go into the next checkpoint. Called under
    /// the write lock, after the index has applied the write.</summary>
    private void TrackWrite(int internalId)
    {
        if (Wal is null) return;
        _dirty.Add(internalId);
        if (!_index.TryExportNode(internalId, out var node)) return;
        foreach (var level in node.Links)
        {
            foreach (var neighbour in level) _dirty.Add(neighbour);
        }
    }

    internal void AttachStore(CollectionStore store, long checkpointSequence)
    {
        _store = store;
        _checkpointSequence = checkpointSequence;
    }

    /// <summary>
    /// Makes the collection durable in its FasterKV store up to now. Writes are held only for the
    /// consistent cut (records changed since the last checkpoint copied into the store's memory);
    /// FASTER then flushes while writes continue. Writes a manifest, keeps the last two checkpoints
    /// and truncates the WAL before the older one's position. Null for an in-memory collection.
    /// </summary>
    public async Task<CheckpointResult?> CheckpointAsync(CancellationToken cancellationToken = default)
    {
        if (_store is null || Wal is null) return null;
        await _checkpointGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_applier.Closed) return null;   // deleted meanwhile
            return (await CheckpointUnderGateAsync(cancellationToken).ConfigureAwait(false)).Result;
        }
        finally
        {
            _checkpointGate.Release();
        }
    }

    private async Task<(CheckpointResult Result, CheckpointManifest Manifest)> CheckpointUnderGateAsync(CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var store = _store!;
        {
            HashSet<int> dirty;
            long position, documents;
            TimeSpan held;
            using (var hold = await _applier.HoldAsync(cancellationToken).ConfigureAwait(false))
            {
                position = hold.Position;
                _lock.EnterWriteLock();
                try
                {
                    dirty = _dirty;
                    _dirty = [];
                    documents = _idMap.Count;
                    WriteCut(dirty, position);
                }
                finally
                {
                    _lock.ExitWriteLock();
                }
                hold.ResetWrites();
                held = System.Diagnostics.Stopwatch.GetElapsedTime(hold.HeldSince);
            }

            CheckpointManifest manifest;
            try
            {
                var token = await store.CheckpointAsync().ConfigureAwait(false);
                manifest = new CheckpointManifest(_checkpointSequence + 1, token, position, documents, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                    CheckpointManifest.HashFiles(store.CheckpointDirectory, token));
                manifest.Write(store.CheckpointDirectory);
            }
            catch (Exception ex)
            {
                _lock.EnterWriteLock();
                try { _dirty.UnionWith(dirty); }
                finally { _lock.ExitWriteLock(); }
                if (ex is not StoreCheckpointFailedException failed) throw;
                ReopenStore(store);
                throw new EngineException(failed.DiskFull ? EngineErrorKind.ResourceExhausted : EngineErrorKind.Unavailable,
                    $"collection '{Name}': checkpoint failed, writes go on and the WAL keeps them: {failed.Message}", inner: failed);
            }
            await PruneAsync().ConfigureAwait(false);
            Interlocked.Exchange(ref _lastCheckpointMs, Environment.TickCount64);
            Interlocked.Exchange(ref _checkpointSequence, manifest.Sequence);
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            RecordCheckpoint(elapsed, position, CheckpointFileBytes(store.CheckpointDirectory, manifest.Token));
            return (new CheckpointResult(manifest.Sequence, position, documents, dirty.Count, held, elapsed), manifest);
        }
    }

    /// <summary>After a failed FASTER checkpoint the store's state machine may never finish, so it is dropped and the
    /// store reopened as of the last good checkpoint (or empty when none), under the checkpoint gate. The ids of the
    /// failed cut are dirty again, so the next checkpoint rewrites them; with an empty store every id is.</summary>
    private void ReopenStore(CollectionStore failed)
    {
        var (storeDir, checkpointDir) = (failed.StoreDirectory, failed.CheckpointDirectory);
        failed.Abandon();
        _store = null;
        var sequence = Interlocked.Read(ref _checkpointSequence);
        foreach (var (s, path) in CheckpointManifest.List(checkpointDir))
        {
            if (s != sequence) continue;
            try
            {
                _store = CollectionStore.Recover(storeDir, checkpointDir, CheckpointManifest.ReadVerified(path).Token);
                return;
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or FASTER.core.FasterException or System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
            {
                // unusable: start an empty store below
            }
        }
        if (Directory.Exists(storeDir)) Directory.Delete(storeDir, recursive: true);
        _store = CollectionStore.Create(storeDir, checkpointDir);
        _lock.EnterWriteLock();
        try
        {
            for (var id = 0; id < _records.Count; id++) _dirty.Add(id);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    private void WriteCut(HashSet<int> dirty, long position)
    {
        using var writer = _store!.BeginWrite();
        foreach (var id in dirty)
        {
            if (id < _records.Count && _records[id] is { } r) writer.PutDocument(id, r.Id, r.Text, r.Metadata);
            else writer.DeleteDocument(id);
            if (_index.TryExportNode(id, out var node)) writer.PutNode(node);
            else writer.DeleteNode(id);
        }
        writer.PutMeta(new MetaRecord(_index.ExportState(), position, _idMap.Count, _deletedTotal, _records.Count, FreeIds: []));
    }

    /// <summary>Keeps the newest two manifests (and their FASTER files); the WAL is truncated before
    /// the older kept one's position so either can be recovered.</summary>
    private async Task PruneAsync()
    {
        var manifests = CheckpointManifest.List(_store!.CheckpointDirectory);
        var keep = manifests.Take(2).ToArray();
        var keptTokens = new HashSet<Guid>();
        long truncateBefore = long.MaxValue;
        foreach (var (_, path) in keep)
        {
            try
            {
                var m = CheckpointManifest.ReadVerified(path);
                keptTokens.Add(m.Token);
                truncateBefore = Math.Min(truncateBefore, m.WalPosition);
            }
            catch (InvalidDataException)
            {
                truncateBefore = 0;   // a kept checkpoint is damaged: keep the whole WAL
            }
        }
        foreach (var (_, path) in manifests.Skip(2)) File.Delete(path);
        foreach (var kind in new[] { "index-checkpoints", "cpr-checkpoints" })
        {
            var root = Path.Combine(_store.CheckpointDirectory, kind);
            if (!Directory.Exists(root)) continue;
            foreach (var dir in Directory.GetDirectories(root))
            {
                if (Guid.TryParse(Path.GetFileName(dir), out var token) && !keptTokens.Contains(token)) Directory.Delete(dir, recursive: true);
            }
        }
        if (TruncateWal && truncateBefore is > 0 and < long.MaxValue) await Wal!.TruncateBeforeAsync(truncateBefore).ConfigureAwait(false);
    }

    Index.IVectorIndex IDurableState.Index => _index;

    long IDurableState.Documents => Count;

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

    void IDurableState.AttachStore(CollectionStore store, long checkpointSequence) => AttachStore(store, checkpointSequence);

    private void DisposeStore()
    {
        _store?.Dispose();
        _store = null;
    }
}
