using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BgeVectorDb.Core.Collections;

/// <summary>Durable collections: recovery from the newest good checkpoint plus the WAL after it,
/// collections that cannot be recovered (refused, never dropped), and checkpoint triggers.</summary>
public sealed partial class CollectionCatalog
{
    private readonly Dictionary<string, (CatalogEntry Entry, string Reason, bool Corrupt)> _failed = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopCheckpoints = new();
    private StorageOptions _storage = new();
    private Task _checkpointLoop = Task.CompletedTask;
    private volatile Collection? _loopCheckpointing;   // the collection the checkpoint loop is checkpointing now

    /// <summary>Collections that could not be recovered, with the reason (their RPCs fail with DATA_LOSS when their
    /// files are damaged beyond recovery, FAILED_PRECONDITION when they could not be read; deleting them removes their
    /// files).</summary>
    public IReadOnlyDictionary<string, string> Failed
    {
        get
        {
            lock (_sync) return _failed.ToDictionary(p => p.Key, p => p.Value.Reason, StringComparer.Ordinal);
        }
    }

    /// <summary>Why writes are refused now (e.g. "collection 'x': the disk is full: ..."), null when every collection
    /// takes writes. Collections whose log broke are reopened first when their volume has room again.</summary>
    public string? WritesBlocked()
    {
        foreach (var c in List())
        {
            if (c.Wal is { } wal && !wal.TryRecover() && wal.Broken is { } reason) return $"collection '{c.Name}': {reason}";
        }
        return null;
    }

    private void ThrowIfFailed(string name)
    {
        string? reason = null;
        var corrupt = false;
        lock (_sync)
        {
            if (_failed.TryGetValue(name, out var f)) (reason, corrupt) = (f.Reason, f.Corrupt);
        }
        if (reason is not null)
        {
            throw new EngineException(corrupt ? EngineErrorKind.DataLoss : EngineErrorKind.FailedPrecondition,
                $"collection '{name}' could not be recovered and is offline: {reason}" +
                (corrupt ? " (restore a snapshot, or delete the collection)" : ""));
        }
    }

    private void StartCheckpointLoop(StorageOptions storage)
    {
        _storage = storage;
        if (_dataDirectory is null) return;
        if (storage.CheckpointIntervalSeconds <= 0 && storage.CheckpointEveryWrites <= 0) return;
        _checkpointLoop = Task.Run(CheckpointLoopAsync);
    }

    private async Task CheckpointLoopAsync()
    {
        var token = _stopCheckpoints.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            foreach (var c in List())
            {
                var writes = c.WritesSinceCheckpoint;
                if (writes == 0) continue;
                if (c.Wal is { Broken: not null }) continue;   // disk full: a checkpoint cannot be written either
                var byCount = _storage.CheckpointEveryWrites > 0 && writes >= _storage.CheckpointEveryWrites;
                var byTime = _storage.CheckpointIntervalSeconds > 0 && c.SinceLastCheckpoint.TotalSeconds >= _storage.CheckpointIntervalSeconds;
                if (!byCount && !byTime) continue;
                _loopCheckpointing = c;
                await CheckpointOneAsync(c, byCount ? "write count" : "interval", token).ConfigureAwait(false);
                _loopCheckpointing = null;
            }
        }
    }

    private async Task<CheckpointResult?> CheckpointOneAsync(Collection c, string trigger, CancellationToken token)
    {
        try
        {
            var result = await c.CheckpointAsync(token).ConfigureAwait(false);
            if (result is not null)
            {
                if (result.Generation is { } generation)
                {
                    LogGeneration(c.Name, result.Sequence, trigger, generation, result.Documents, result.RecordsWritten, result.WalPosition,
                        (long)result.WritesHeld.TotalMilliseconds, (long)result.Elapsed.TotalMilliseconds);
                }
                else
                {
                    LogCheckpoint(c.Name, result.Sequence, trigger, result.Documents, result.RecordsWritten, result.WalPosition,
                        (long)result.WritesHeld.TotalMilliseconds, (long)result.Elapsed.TotalMilliseconds);
                }
            }
            return result;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (ObjectDisposedException)
        {
            return null;   // the collection was deleted meanwhile
        }
        catch (Exception ex) when (trigger != "request")
        {
            LogCheckpointFailed(ex, c.Name, trigger);
            return null;
        }
    }

    /// <summary>Checkpoints one collection (or all when <paramref name="name"/> is empty); returns the
    /// names checkpointed.</summary>
    public async Task<IReadOnlyList<string>> CheckpointAsync(string? name, CancellationToken cancellationToken = default)
    {
        var targets = string.IsNullOrEmpty(name) ? List() : [GetDurable(name)];
        foreach (var c in targets) await CheckpointOneAsync(c, "request", cancellationToken).ConfigureAwait(false);
        return targets.Select(c => c.Name).ToArray();
    }

    private Collection GetDurable(string name)
    {
        ThrowIfFailed(name);
        return Get(name);
    }

    /// <summary>How long a shutdown checkpoint still running at the deadline is given to notice it and return (the
    /// store's wait looks every 100 ms) before its collection is left unclosed.</summary>
    private static readonly TimeSpan AbandonGrace = TimeSpan.FromMilliseconds(300);

    /// <summary>Stops the checkpoint loop and, with Storage:CheckpointOnShutdown, checkpoints every collection, one at a
    /// time, until <paramref name="deadline"/>. A checkpoint not finished then is abandoned (the WAL holds every acked
    /// write: the next start replays it) and a warning names its collection. Returns the collections whose checkpoint
    /// (the loop's included) did not return even <see cref="AbandonGrace"/> after the deadline (a phase that cannot be
    /// cancelled): closing them would wait for it.</summary>
    private async Task<HashSet<string>> CloseStorageAsync(CancellationToken deadline)
    {
        await _stopCheckpoints.CancelAsync().ConfigureAwait(false);
        var stuck = new HashSet<string>(StringComparer.Ordinal);
        if (!await FinishesAsync(_checkpointLoop, deadline).ConfigureAwait(false) && _loopCheckpointing is { } busy) stuck.Add(busy.Name);
        if (_dataDirectory is null || !_storage.CheckpointOnShutdown) return stuck;
        foreach (var c in List())
        {
            // A collection whose WAL cannot commit (disk full) is not checkpointed: the checkpoint could not be
            // written either, and everything acked is in the WAL, replayed at the next start.
            if (c.Wal is { } wal && !wal.TryRecover())
            {
                LogShutdownCheckpointSkipped(c.Name, wal.Broken ?? "");
                continue;
            }
            if (deadline.IsCancellationRequested)
            {
                LogShutdownCheckpointAbandoned(c.Name, stuck.Contains(c.Name) ? "was not started (an earlier checkpoint still runs)" : "was not started");
                continue;
            }
            // On the thread pool: copying the cut into the store runs synchronously and may block on a slow disk.
            var checkpoint = Task.Run(() => CheckpointOneAsync(c, "shutdown", deadline), CancellationToken.None);
            if (!await FinishesAsync(checkpoint, deadline).ConfigureAwait(false))
            {
                stuck.Add(c.Name);
                LogShutdownCheckpointAbandoned(c.Name, "was still running");
            }
            else if (checkpoint.Result is null && deadline.IsCancellationRequested)
            {
                LogShutdownCheckpointAbandoned(c.Name, "was abandoned");   // a finished one logged itself
            }
        }
        return stuck;
    }

    /// <summary>Waits for <paramref name="task"/> until <paramref name="deadline"/>, then at most
    /// <see cref="AbandonGrace"/> more for it to notice; false when it is still running.</summary>
    private static async Task<bool> FinishesAsync(Task task, CancellationToken deadline)
    {
        try
        {
            await task.WaitAsync(deadline).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !task.IsCompleted)
        {
        }
        try
        {
            await task.WaitAsync(AbandonGrace, CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Opens a durable collection through <see cref="CollectionRecovery"/> (newest good checkpoint, then the
    /// WAL after it). Throws InvalidDataException when nothing usable covers the data (the caller refuses the
    /// collection).</summary>
    private Collection RecoverDurable(string name, CollectionConfig config, long createdAtMs, bool fresh)
    {
        var dir = CollectionDirectory(name);
        if (fresh && Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        var embedder = config.HasEmbedder ? _models.GetEmbedder(config.EmbeddingModel) : null;
        var reranker = config.HasReranker ? _models.GetReranker(config.RerankerModel) : null;
        var collection = CollectionRecovery.Open(dir, name, wal => new Collection(name, config, createdAtMs, embedder, reranker, _limits, wal),
            _logger, _storage);
        collection.Folder = dir;
        return collection;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Checkpoint {Sequence} of collection {Name} ({Trigger}): {Documents} documents, {Records} records written, covers WAL position {Position}; writes held {HeldMs} ms, total {ElapsedMs} ms")]
    private partial void LogCheckpoint(string name, long sequence, string trigger, long documents, int records, long position, long heldMs, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Checkpoint {Sequence} of collection {Name} ({Trigger}) rewrote the store whole as generation {Generation}: {Documents} documents, {Records} records written, covers WAL position {Position}; writes held {HeldMs} ms in the last cut, total {ElapsedMs} ms")]
    private partial void LogGeneration(string name, long sequence, string trigger, int generation, long documents, int records, long position, long heldMs, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Collection {Name}: no checkpoint at shutdown, its WAL refuses writes ({Reason}); the next start replays the WAL")]
    private partial void LogShutdownCheckpointSkipped(string name, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Collection {Name}: the shutdown checkpoint did not finish by the shutdown deadline and {What}; nothing acked is lost, the next start replays its WAL")]
    private partial void LogShutdownCheckpointAbandoned(string name, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Collection {Name}: its WAL and store were not closed, its abandoned checkpoint still runs; nothing acked is lost, the next start replays its WAL")]
    private partial void LogNotClosed(string name);

    [LoggerMessage(Level = LogLevel.Error, Message = "Checkpoint of collection {Name} ({Trigger}) failed; the WAL still holds every write")]
    private partial void LogCheckpointFailed(Exception ex, string name, string trigger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Collection {Name} cannot be recovered and stays offline (its data is left untouched): {Reason}")]
    private partial void LogRefused(string name, string reason);
}
