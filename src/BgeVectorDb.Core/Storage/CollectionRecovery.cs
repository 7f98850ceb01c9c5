using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace BgeVectorDb.Core.Storage;

/// <summary>
/// Opens a durable collection from its folder (<see cref="CollectionLayout"/>): the newest checkpoint whose manifest
/// verifies and whose store loads, falling back to older ones, then the WAL after that checkpoint's position. With no
/// usable checkpoint the whole WAL is replayed when it was never truncated; otherwise the collection cannot be
/// recovered (<see cref="InvalidDataException"/>; the caller refuses it and leaves its files untouched).
/// </summary>
internal static partial class CollectionRecovery
{
    /// <summary>Recovers the collection in <paramref name="directory"/> into a state made by <paramref name="create"/>
    /// (called once per checkpoint tried, with the opened WAL; a state a failed load filled is dropped). On failure the
    /// WAL is closed again. The state gets its <see cref="Checkpointer"/> (which owns the WAL and the store from
    /// then on) before the WAL is replayed, so replayed writes go into the next checkpoint.
    /// <paramref name="truncateWal"/>: Storage:KeepWholeWal = false; <paramref name="checkpointTimeout"/>: Storage:CheckpointTimeoutSeconds.</summary>
    public static T Open<T>(string directory, string name, Func<IWriteAheadLog, T> create, bool truncateWal, ILogger logger,
        TimeSpan? checkpointTimeout = null) where T : class, IDurableState
    {
        var started = Stopwatch.GetTimestamp();
        var wal = FasterLogWal.Open(CollectionLayout.WalDirectory(directory), logger);
        try
        {
            var storeDir = CollectionLayout.StoreDirectory(directory);
            var checkpointDir = CollectionLayout.CheckpointDirectory(directory);
            T? state = null;
            long from = 0;
            var problems = new List<string>();
            foreach (var (sequence, path) in CheckpointManifest.List(checkpointDir))
            {
                var candidate = create(wal);
                CollectionStore? store = null;
                try
                {
                    var manifest = CheckpointManifest.ReadVerified(path);
                    var t0 = Stopwatch.GetTimestamp();
                    store = CollectionStore.Recover(storeDir, checkpointDir, manifest.Token, checkpointTimeout);
                    var recoverMs = (long)Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    Load(candidate, store);
                    candidate.Attach(new Checkpointer(name, candidate, store, sequence, truncateWal));
                    state = candidate;
                    from = manifest.WalPosition;
                    LogCheckpointLoaded(logger, name, sequence, candidate.Documents, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, recoverMs);
                    break;
                }
                catch (Exception ex) when (ex is InvalidDataException or IOException or FASTER.core.FasterException or System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
                {
                    store?.Dispose();
                    problems.Add($"{Path.GetFileName(path)}: {ex.Message}");
                    LogCheckpointUnusable(logger, name, Path.GetFileName(path), ex.Message);
                }
            }
            if (state is null)
            {
                if (wal.Truncated)
                {
                    var why = problems.Count > 0 ? string.Join("; ", problems) : "no checkpoint manifest found";
                    throw new InvalidDataException($"no usable checkpoint ({why}) and the WAL before position {wal.BeginPosition} was truncated");
                }
                if (problems.Count > 0) LogFullReplay(logger, name);
                state = create(wal);
                if (Directory.Exists(storeDir)) Directory.Delete(storeDir, recursive: true);
                var sequence = CheckpointManifest.List(checkpointDir).Select(m => m.Sequence).DefaultIfEmpty(0).Max();
                state.Attach(new Checkpointer(name, state, CollectionStore.Create(storeDir, checkpointDir, checkpointTimeout), sequence, truncateWal));
            }
            var entries = 0;
            foreach (var (_, entry) in wal.ReadFrom(from))
            {
                state.Replay(entry);
                if (++entries % 10_000 == 0) LogReplayProgress(logger, name, entries);
            }
            LogRecovered(logger, name, entries, state.Documents, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return state;
        }
        catch
        {
            wal.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>Loads a recovered store into an empty state: documents, then index nodes placed as exported (no
    /// rebuild). Throws InvalidDataException when the store is inconsistent.</summary>
    internal static MetaRecord Load(IDurableState state, CollectionStore store)
    {
        MetaRecord? meta = null;
        foreach (var record in store.ReadAll())
        {
            switch (record)
            {
                case DocumentRecord d:
                    state.LoadDocument(d);
                    break;
                case NodeRecord n:
                    state.Index.ImportNode(n.Node);
                    break;
                case MetaRecord m:
                    meta = m;
                    break;
            }
        }
        if (meta is null) throw new InvalidDataException("the store has no meta record");
        if (state.Documents != meta.Documents) throw new InvalidDataException($"the store holds {state.Documents} documents, its meta record says {meta.Documents}");
        // Internal ids are never reused (the HNSW index keeps tombstones), so FreeIds is always empty.
        if (meta.FreeIds.Length > 0) throw new InvalidDataException("the store lists reusable ids, which this version never writes");
        state.CompleteLoad(meta);
        state.Index.CompleteImport(meta.State);
        return meta;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovering collection {Name}: loaded checkpoint {Sequence} ({Documents} documents, index imported without rebuild) in {ElapsedMs} ms (FASTER recover {RecoverMs} ms)")]
    private static partial void LogCheckpointLoaded(ILogger logger, string name, long sequence, long documents, long elapsedMs, long recoverMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Collection {Name}: checkpoint {Manifest} is unusable, trying an older one: {Reason}")]
    private static partial void LogCheckpointUnusable(ILogger logger, string name, string manifest, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Collection {Name}: no checkpoint is usable; the WAL is complete, replaying all of it")]
    private static partial void LogFullReplay(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovering collection {Name}: replayed {Entries} WAL entries so far")]
    private static partial void LogReplayProgress(ILogger logger, string name, int entries);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovered collection {Name}: replayed {Entries} log entries, {Documents} documents, in {ElapsedMs} ms")]
    private static partial void LogRecovered(ILogger logger, string name, int entries, long documents, long elapsedMs);
}
