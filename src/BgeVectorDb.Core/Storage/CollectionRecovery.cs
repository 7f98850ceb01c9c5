using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace BgeVectorDb.Core.Storage;

/// <summary>
/// Opens a durable collection from its folder (<see cref="CollectionLayout"/>): the newest checkpoint whose manifest
/// verifies and whose store loads, newest generation first, falling back to older checkpoints and then to the previous
/// generation (which shares no file with the newer one), then the WAL after that checkpoint's position. With no usable
/// checkpoint the whole WAL is replayed when it was never truncated; otherwise the collection cannot be recovered
/// (<see cref="InvalidDataException"/>; the caller refuses it and leaves its files untouched). When anything newer
/// than the checkpoint used was damaged, the next checkpoint writes a new generation (and deletes the damaged files).
/// </summary>
internal static partial class CollectionRecovery
{
    /// <summary>Recovers the collection in <paramref name="directory"/> into a state made by <paramref name="create"/>
    /// (called once per checkpoint tried, with the opened WAL; a state a failed load filled is dropped). On failure the
    /// WAL is closed again. The state gets its <see cref="Checkpointer"/> (which owns the WAL and the store from
    /// then on) before the WAL is replayed, so replayed writes go into the next checkpoint.
    /// <paramref name="options"/>: Storage:KeepWholeWal, StoreRewriteWalBytes, CheckpointTimeoutSeconds (defaults when null).</summary>
    public static T Open<T>(string directory, string name, Func<IWriteAheadLog, T> create, ILogger logger, StorageOptions? options = null)
        where T : class, IDurableState
    {
        options ??= new StorageOptions();
        var checkpointTimeout = TimeSpan.FromSeconds(options.CheckpointTimeoutSeconds);
        var started = Stopwatch.GetTimestamp();
        var wal = FasterLogWal.Open(CollectionLayout.WalDirectory(directory), logger);
        try
        {
            var generations = CollectionLayout.Generations(directory);
            T? state = null;
            long from = 0;
            var problems = new List<string>();
            for (var g = 0; g < generations.Count && state is null; g++)
            {
                var folder = CollectionLayout.GenerationDirectory(directory, generations[g]);
                var (storeDir, checkpointDir) = (CollectionLayout.StoreDirectory(folder), CollectionLayout.CheckpointDirectory(folder));
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
                        var generation = new GenerationInfo(directory, generations[g], manifest.BaseBytes, manifest.WalPosition,
                            FallbackPosition(directory, generations.Skip(g + 1)), RewriteNeeded: problems.Count > 0);
                        candidate.Attach(new Checkpointer(name, candidate, store, sequence, generation, options));
                        state = candidate;
                        from = manifest.WalPosition;
                        LogCheckpointLoaded(logger, name, sequence, generations[g], candidate.Documents, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, recoverMs);
                        break;
                    }
                    catch (Exception ex) when (ex is InvalidDataException or IOException or FASTER.core.FasterException or System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
                    {
                        store?.Dispose();
                        problems.Add($"{Path.GetRelativePath(directory, path)}: {ex.Message}");
                        LogCheckpointUnusable(logger, name, Path.GetRelativePath(directory, path), ex.Message);
                    }
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
                // A new, empty generation. Generations without a manifest never held a checkpoint (a crash before the
                // first one): nothing in them is needed. Damaged ones stay until the first checkpoint writes the next
                // generation.
                foreach (var empty in generations.Where(n => CollectionLayout.Manifests(directory, n).Count == 0))
                {
                    CollectionLayout.DeleteGeneration(directory, empty);
                }
                var number = CollectionLayout.NextGeneration(directory);
                var folder = CollectionLayout.GenerationDirectory(directory, number);
                var sequence = generations.SelectMany(n => CollectionLayout.Manifests(directory, n))
                    .Select(m => m.Sequence).DefaultIfEmpty(0).Max();
                var store = CollectionStore.Create(CollectionLayout.StoreDirectory(folder), CollectionLayout.CheckpointDirectory(folder), checkpointTimeout);
                state.Attach(new Checkpointer(name, state, store, sequence,
                    new GenerationInfo(directory, number, BaseBytes: 0, CheckpointPosition: null, FallbackPosition: null, RewriteNeeded: problems.Count > 0), options));
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

    /// <summary>The WAL position of the newest checkpoint of an older generation whose manifest verifies (its store
    /// records are checked only if it is ever needed); null when there is none.</summary>
    private static long? FallbackPosition(string directory, IEnumerable<int> olderGenerations)
    {
        foreach (var number in olderGenerations)
        {
            foreach (var (_, path) in CollectionLayout.Manifests(directory, number))
            {
                try
                {
                    return CheckpointManifest.ReadVerified(path).WalPosition;
                }
                catch (Exception ex) when (ex is InvalidDataException or IOException or System.Text.Json.JsonException)
                {
                    // try the next older one
                }
            }
        }
        return null;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovering collection {Name}: loaded checkpoint {Sequence} of store generation {Generation} ({Documents} documents, index imported without rebuild) in {ElapsedMs} ms (FASTER recover {RecoverMs} ms)")]
    private static partial void LogCheckpointLoaded(ILogger logger, string name, long sequence, int generation, long documents, long elapsedMs, long recoverMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Collection {Name}: checkpoint {Manifest} is unusable, trying an older one: {Reason}")]
    private static partial void LogCheckpointUnusable(ILogger logger, string name, string manifest, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Collection {Name}: no checkpoint is usable; the WAL is complete, replaying all of it")]
    private static partial void LogFullReplay(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovering collection {Name}: replayed {Entries} WAL entries so far")]
    private static partial void LogReplayProgress(ILogger logger, string name, int entries);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovered collection {Name}: replayed {Entries} log entries, {Documents} documents, in {ElapsedMs} ms")]
    private static partial void LogRecovered(ILogger logger, string name, int entries, long documents, long elapsedMs);
}
