using System.Diagnostics;
using BgeVectorDb.Common.Errors;

namespace BgeVectorDb.Core.Storage;

/// <summary>What a checkpoint covered. <paramref name="Generation"/>: the new store generation when the checkpoint
/// rewrote the store whole (null for an incremental checkpoint).</summary>
public sealed record CheckpointResult(long Sequence, long WalPosition, long Documents, int RecordsWritten, TimeSpan WritesHeld, TimeSpan Elapsed,
    int? Generation = null);

/// <summary>Where a collection's store stands among its generations (<see cref="CollectionLayout"/>) when its
/// <see cref="Checkpointer"/> starts: the generation the store belongs to, the size that generation had when it was
/// written whole, the WAL position of its last checkpoint (null when it has none), the WAL position of the previous
/// generation's last checkpoint (the fallback; null when there is none) and whether the next checkpoint must write a
/// new generation (recovery found damage).</summary>
internal sealed record GenerationInfo(string CollectionDirectory, int Number, long BaseBytes, long? CheckpointPosition, long? FallbackPosition,
    bool RewriteNeeded = false);

/// <summary>
/// Checkpoints of one durable collection into its FasterKV store (<see cref="CollectionStore"/>). Owns the dirty set
/// (internal ids whose document or index node changed since the last checkpoint), the consistent cut (writes held
/// through <see cref="DurableApplier.HoldAsync"/> only while the dirty records are copied into the store's memory),
/// the FASTER flush, the <see cref="CheckpointManifest"/>, pruning (newest two kept per generation), store
/// generations (<c>Checkpointer.Generations.cs</c>: the store rewritten whole into a fresh folder once enough WAL
/// accumulated, the WAL truncated behind the previous generation), snapshots (<c>Checkpointer.Snapshot.cs</c>) and
/// closing the WAL and store. Checkpoints and snapshots of one collection run one at a time (a gate).
/// </summary>
internal sealed partial class Checkpointer
{
    private readonly string _name;
    private readonly IDurableState _state;
    private readonly DurableApplier _applier;
    private readonly IWriteAheadLog _wal;
    private readonly StorageOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _dirtyLock = new();

    // Internal ids whose document or index node changed since the last checkpoint (guarded by _dirtyLock).
    private HashSet<int> _dirty = [];
    // Null when the last checkpoint failed: the next one writes a new generation.
    private CollectionStore? _store;
    private long _sequence;
    private long _lastCheckpointMs = Environment.TickCount64;

    /// <param name="name">The collection's name, for error messages.</param>
    /// <param name="state">The collection: documents for the cut, its index, telemetry.</param>
    /// <param name="store">The store as of checkpoint <paramref name="sequence"/> (0 = none yet).</param>
    /// <param name="generation">Which generation <paramref name="store"/> is and what the generations before it left.</param>
    /// <param name="options">Storage:KeepWholeWal, Storage:StoreRewriteWalBytes.</param>
    public Checkpointer(string name, IDurableState state, CollectionStore store, long sequence, GenerationInfo generation, StorageOptions options)
    {
        _name = name;
        _state = state;
        _applier = state.Applier;
        _wal = state.Applier.Wal ?? throw new ArgumentException("a checkpointed collection has a WAL", nameof(state));
        _store = store;
        _sequence = sequence;
        _options = options;
        _generation = generation;
    }

    /// <summary>Sequence number of the last checkpoint (0 when none).</summary>
    public long Sequence => Interlocked.Read(ref _sequence);

    public TimeSpan SinceLastCheckpoint => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastCheckpointMs));

    /// <summary>The store the next checkpoint writes to (null after a failed checkpoint: the next one writes a new
    /// generation).</summary>
    public CollectionStore? Store => _store;

    /// <summary>Records that the node of <paramref name="internalId"/> (and the neighbours its links name, whose
    /// links an insert may have changed) must go into the next checkpoint. Called once the index applied the write.</summary>
    public void MarkWritten(int internalId)
    {
        lock (_dirtyLock)
        {
            Mark(_dirty, internalId);
            if (_rewriteDirty is not null) Mark(_rewriteDirty, internalId);
        }
    }

    private void Mark(HashSet<int> dirty, int internalId)
    {
        dirty.Add(internalId);
        if (!_state.Index.TryExportNode(internalId, out var node)) return;
        foreach (var level in node.Links)
        {
            foreach (var neighbour in level) dirty.Add(neighbour);
        }
    }

    /// <summary>
    /// Makes the collection durable in its FasterKV store up to now. Writes are held only for the consistent cut
    /// (records changed since the last checkpoint copied into the store's memory); FASTER then flushes while writes
    /// continue. Writes a manifest and keeps the last two checkpoints of the generation. When a new generation is due
    /// (<see cref="RewriteDue"/>) the store is rewritten whole instead. Null when the collection was closed meanwhile.
    /// </summary>
    public async Task<CheckpointResult?> CheckpointAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_applier.Closed) return null;   // deleted meanwhile
            return (await CheckpointUnderGateAsync(cancellationToken).ConfigureAwait(false)).Result;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(CheckpointResult Result, CheckpointManifest Manifest)> CheckpointUnderGateAsync(CancellationToken cancellationToken)
    {
        if (_store is not { } store || RewriteDue()) return await RewriteUnderGateAsync(cancellationToken).ConfigureAwait(false);
        var started = Stopwatch.GetTimestamp();
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
            try
            {
                counts = WriteCut(store, dirty, position);
            }
            catch
            {
                // Records already copied stay in the store's memory; all of them go into the next cut again.
                lock (_dirtyLock) _dirty.UnionWith(dirty);
                throw;
            }
            hold.ResetWrites();
            held = Stopwatch.GetElapsedTime(hold.HeldSince);
        }

        CheckpointManifest manifest;
        try
        {
            var token = await store.CheckpointAsync(cancellationToken).ConfigureAwait(false);
            manifest = new CheckpointManifest(_sequence + 1, token, position, counts.Documents, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                CheckpointManifest.HashFiles(store.CheckpointDirectory, token), _generation.BaseBytes);
            manifest.Write(store.CheckpointDirectory);
        }
        catch (Exception ex)
        {
            lock (_dirtyLock) _dirty.UnionWith(dirty);
            if (ex is not StoreCheckpointFailedException failed) throw;
            DropStore(store);
            throw CheckpointFailed(failed);
        }
        Prune(store.CheckpointDirectory);
        _generation = _generation with { CheckpointPosition = position };
        await TruncateWalAsync().ConfigureAwait(false);
        return (Completed(store, manifest, counts, dirty.Count, held, started), manifest);
    }

    private CheckpointResult Completed(CollectionStore store, CheckpointManifest manifest, CutCounts counts, int records, TimeSpan held, long started)
    {
        Interlocked.Exchange(ref _lastCheckpointMs, Environment.TickCount64);
        Interlocked.Exchange(ref _sequence, manifest.Sequence);
        var elapsed = Stopwatch.GetElapsedTime(started);
        _state.CheckpointCompleted(elapsed, manifest.WalPosition, CheckpointFileBytes(store.CheckpointDirectory, manifest.Token));
        return new CheckpointResult(manifest.Sequence, manifest.WalPosition, counts.Documents, records, held, elapsed);
    }

    private EngineException CheckpointFailed(StoreCheckpointFailedException failed) =>
        new(failed.DiskFull ? EngineErrorKind.ResourceExhausted : EngineErrorKind.Unavailable,
            $"collection '{_name}': checkpoint failed, writes go on and the WAL keeps them: {failed.Message}", inner: failed);

    /// <summary>Under the write hold: the documents (from the collection) and index nodes of every dirty id, then the
    /// meta record, into the store's memory.</summary>
    private CutCounts WriteCut(CollectionStore store, IReadOnlyCollection<int> dirty, long position)
    {
        using var writer = store.BeginWrite();
        var counts = WriteRecords(writer, dirty, fresh: false);
        writer.PutMeta(new MetaRecord(_state.Index.ExportState(), position, counts.Documents, counts.DeletedTotal, counts.Slots, FreeIds: []));
        return counts;
    }

    /// <summary>Documents and index nodes of <paramref name="ids"/> (writes held). <paramref name="fresh"/>: the
    /// store holds no record of these ids yet, so absent ones are skipped instead of deleted.</summary>
    private CutCounts WriteRecords(CollectionStore.Writer writer, IReadOnlyCollection<int> ids, bool fresh)
    {
        var counts = _state.WriteDocuments(ids, writer, fresh);
        var index = _state.Index;
        foreach (var id in ids)
        {
            if (index.TryExportNode(id, out var node)) writer.PutNode(node);
            else if (!fresh) writer.DeleteNode(id);
        }
        return counts;
    }

    /// <summary>After a failed FASTER checkpoint the store's state machine may never finish, and FASTER may still
    /// write its pages later, so the store is dropped and never reopened: its last good checkpoint stays on disk (the
    /// fallback), and the next checkpoint writes a new generation in a fresh folder, which the abandoned store cannot
    /// touch. The ids of the failed cut are dirty again (they go into that generation like every other).</summary>
    private void DropStore(CollectionStore failed)
    {
        failed.Abandon();
        _store = null;
    }

    /// <summary>Keeps the newest two manifests of the generation (and their FASTER files).</summary>
    private static void Prune(string checkpointDirectory)
    {
        var manifests = CheckpointManifest.List(checkpointDirectory);
        var keptTokens = new HashSet<Guid>();
        foreach (var (_, path) in manifests.Take(2))
        {
            try
            {
                keptTokens.Add(CheckpointManifest.ReadVerified(path).Token);
            }
            catch (InvalidDataException)
            {
                // a damaged manifest keeps nothing; the generation before this one is the fallback
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
