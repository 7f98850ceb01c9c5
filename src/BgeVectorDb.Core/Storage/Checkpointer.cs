using System.Diagnostics;
using BgeVectorDb.Common.Errors;

namespace BgeVectorDb.Core.Storage;

/// <summary>What a checkpoint covered.</summary>
public sealed record CheckpointResult(long Sequence, long WalPosition, long Documents, int RecordsWritten, TimeSpan WritesHeld, TimeSpan Elapsed);

/// <summary>
/// Checkpoints of one durable collection into its FasterKV store (<see cref="CollectionStore"/>). Owns the dirty set
/// (internal ids whose document or index node changed since the last checkpoint), the consistent cut (writes held
/// through <see cref="DurableApplier.HoldAsync"/> only while the dirty records are copied into the store's memory),
/// the FASTER flush, the <see cref="CheckpointManifest"/>, pruning (newest two kept; the WAL truncated behind the
/// older one unless the whole WAL is kept), the store's reopen after a failed checkpoint, snapshots
/// (<c>Checkpointer.Snapshot.cs</c>) and closing the WAL and store. Checkpoints and snapshots of one collection run
/// one at a time (a gate).
/// </summary>
internal sealed partial class Checkpointer
{
    private readonly string _name;
    private readonly IDurableState _state;
    private readonly DurableApplier _applier;
    private readonly IWriteAheadLog _wal;
    private readonly bool _truncateWal;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _dirtyLock = new();

    // Internal ids whose document or index node changed since the last checkpoint (guarded by _dirtyLock).
    private HashSet<int> _dirty = [];
    private CollectionStore? _store;
    private long _sequence;
    private long _lastCheckpointMs = Environment.TickCount64;

    /// <param name="name">The collection's name, for error messages.</param>
    /// <param name="state">The collection: documents for the cut, its index, telemetry.</param>
    /// <param name="store">The store as of checkpoint <paramref name="sequence"/> (0 = none yet).</param>
    /// <param name="truncateWal">Truncate the WAL behind the older kept checkpoint (Storage:KeepWholeWal = false).</param>
    public Checkpointer(string name, IDurableState state, CollectionStore store, long sequence, bool truncateWal)
    {
        _name = name;
        _state = state;
        _applier = state.Applier;
        _wal = state.Applier.Wal ?? throw new ArgumentException("a checkpointed collection has a WAL", nameof(state));
        _store = store;
        _sequence = sequence;
        _truncateWal = truncateWal;
    }

    /// <summary>Sequence number of the last checkpoint (0 when none).</summary>
    public long Sequence => Interlocked.Read(ref _sequence);

    public TimeSpan SinceLastCheckpoint => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastCheckpointMs));

    /// <summary>The store the next checkpoint writes to (replaced after a failed checkpoint).</summary>
    public CollectionStore? Store => _store;

    /// <summary>Records that the node of <paramref name="internalId"/> (and the neighbours its links name, whose
    /// links an insert may have changed) must go into the next checkpoint. Called once the index applied the write.</summary>
    public void MarkWritten(int internalId)
    {
        lock (_dirtyLock)
        {
            _dirty.Add(internalId);
            if (!_state.Index.TryExportNode(internalId, out var node)) return;
            foreach (var level in node.Links)
            {
                foreach (var neighbour in level) _dirty.Add(neighbour);
            }
        }
    }

    /// <summary>
    /// Makes the collection durable in its FasterKV store up to now. Writes are held only for the consistent cut
    /// (records changed since the last checkpoint copied into the store's memory); FASTER then flushes while writes
    /// continue. Writes a manifest, keeps the last two checkpoints and (with <c>truncateWal</c>) truncates the WAL
    /// before the older one's position. Null when the collection was closed meanwhile.
    /// </summary>
    public async Task<CheckpointResult?> CheckpointAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_applier.Closed || _store is null) return null;   // deleted meanwhile, or no store (see ReopenStore)
            return (await CheckpointUnderGateAsync(cancellationToken).ConfigureAwait(false)).Result;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(CheckpointResult Result, CheckpointManifest Manifest)> CheckpointUnderGateAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var store = _store!;
        HashSet<int> dirty;
        long position;
        CutCounts counts;
        TimeSpan held;
        using (var hold = await _applier.HoldAsync(cancellationToken).ConfigureAwait(false))
        {
            position = hold.Position;
            lock (_dirtyLock)
            {
                dirty = _dirty;
                _dirty = [];
            }
            counts = WriteCut(store, dirty, position);
            hold.ResetWrites();
            held = Stopwatch.GetElapsedTime(hold.HeldSince);
        }

        CheckpointManifest manifest;
        try
        {
            var token = await store.CheckpointAsync(cancellationToken).ConfigureAwait(false);
            manifest = new CheckpointManifest(_sequence + 1, token, position, counts.Documents, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                CheckpointManifest.HashFiles(store.CheckpointDirectory, token));
            manifest.Write(store.CheckpointDirectory);
        }
        catch (Exception ex)
        {
            lock (_dirtyLock) _dirty.UnionWith(dirty);
            if (ex is not StoreCheckpointFailedException failed) throw;
            ReopenStore(store);
            throw new EngineException(failed.DiskFull ? EngineErrorKind.ResourceExhausted : EngineErrorKind.Unavailable,
                $"collection '{_name}': checkpoint failed, writes go on and the WAL keeps them: {failed.Message}", inner: failed);
        }
        await PruneAsync(store.CheckpointDirectory).ConfigureAwait(false);
        Interlocked.Exchange(ref _lastCheckpointMs, Environment.TickCount64);
        Interlocked.Exchange(ref _sequence, manifest.Sequence);
        var elapsed = Stopwatch.GetElapsedTime(started);
        _state.CheckpointCompleted(elapsed, position, CheckpointFileBytes(store.CheckpointDirectory, manifest.Token));
        return (new CheckpointResult(manifest.Sequence, position, counts.Documents, dirty.Count, held, elapsed), manifest);
    }

    /// <summary>Under the write hold: the documents (from the collection) and index nodes of every dirty id, then the
    /// meta record, into the store's memory.</summary>
    private CutCounts WriteCut(CollectionStore store, HashSet<int> dirty, long position)
    {
        using var writer = store.BeginWrite();
        var counts = _state.WriteDocuments(dirty, writer);
        var index = _state.Index;
        foreach (var id in dirty)
        {
            if (index.TryExportNode(id, out var node)) writer.PutNode(node);
            else writer.DeleteNode(id);
        }
        writer.PutMeta(new MetaRecord(index.ExportState(), position, counts.Documents, counts.DeletedTotal, counts.Slots, FreeIds: []));
        return counts;
    }

    /// <summary>After a failed FASTER checkpoint the store's state machine may never finish, so it is dropped and the
    /// store reopened as of the last good checkpoint (or empty when none), under the checkpoint gate. The ids of the
    /// failed cut are dirty again, so the next checkpoint rewrites them; with an empty store every id is.</summary>
    private void ReopenStore(CollectionStore failed)
    {
        var (storeDir, checkpointDir) = (failed.StoreDirectory, failed.CheckpointDirectory);
        failed.Abandon();
        _store = null;
        var sequence = Interlocked.Read(ref _sequence);
        foreach (var (s, path) in CheckpointManifest.List(checkpointDir))
        {
            if (s != sequence) continue;
            try
            {
                _store = CollectionStore.Recover(storeDir, checkpointDir, CheckpointManifest.ReadVerified(path).Token, failed.CheckpointTimeout);
                return;
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or FASTER.core.FasterException or System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
            {
                // unusable: start an empty store below
            }
        }
        if (Directory.Exists(storeDir)) Directory.Delete(storeDir, recursive: true);
        _store = CollectionStore.Create(storeDir, checkpointDir, failed.CheckpointTimeout);
        var slots = _state.Slots;
        lock (_dirtyLock)
        {
            for (var id = 0; id < slots; id++) _dirty.Add(id);
        }
    }

    /// <summary>Keeps the newest two manifests (and their FASTER files); the WAL is truncated before
    /// the older kept one's position so either can be recovered.</summary>
    private async Task PruneAsync(string checkpointDirectory)
    {
        var manifests = CheckpointManifest.List(checkpointDirectory);
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
            var root = Path.Combine(checkpointDirectory, kind);
            if (!Directory.Exists(root)) continue;
            foreach (var dir in Directory.GetDirectories(root))
            {
                if (Guid.TryParse(Path.GetFileName(dir), out var token) && !keptTokens.Contains(token)) Directory.Delete(dir, recursive: true);
            }
        }
        if (_truncateWal && truncateBefore is > 0 and < long.MaxValue) await _wal.TruncateBeforeAsync(truncateBefore).ConfigureAwait(false);
    }

    /// <summary>Bytes of one checkpoint's FASTER files (0 when they cannot be listed).</summary>
    private static long CheckpointFileBytes(string checkpointDirectory, Guid token)
    {
        long bytes = 0;
        try
        {
            foreach (var folder in CollectionStore.CheckpointFolders(checkpointDirectory, token))
            {
                if (!Directory.Exists(folder)) continue;
                foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)) bytes += new FileInfo(file).Length;
            }
        }
        catch (IOException)
        {
        }
        return bytes;
    }

    /// <summary>Closes the collection's storage once a checkpoint or snapshot in progress finished (they still use the
    /// store and the WAL): writes already logged finish and are acked (<see cref="DurableApplier.CloseAsync"/>), then
    /// the WAL and the store are disposed. Idempotent.</summary>
    public async Task CloseAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_applier.Closed) return;
            await _applier.CloseAsync().ConfigureAwait(false);
            await _wal.DisposeAsync().ConfigureAwait(false);
            _store?.Dispose();
            _store = null;
        }
        finally
        {
            _gate.Release();
        }
        // The gate is not disposed: callers that still hold the collection get NOT_FOUND, never ObjectDisposedException.
    }
}

/// <summary>The collection-wide counts a checkpoint's meta record stores.</summary>
internal readonly record struct CutCounts(long Documents, long DeletedTotal, int Slots);
