using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Collections;

public sealed partial class Collection
{
    // Apply order = log order: each write waits for the one logged before it (guarded by _writeGate).
    private Task _applyTail = Task.CompletedTask;

    // Internal ids whose document or index node changed since the last checkpoint (guarded by _lock).
    private HashSet<int> _dirty = [];

    /// <summary>Logs <paramref name="entry"/> then applies it. Only the enqueue is serialised, so
    /// concurrent writers share the WAL commit (group commit); each applies in log order once its
    /// entry is durable, and returns only then.</summary>
    private async Task<(long Position, T Result)> LogThenApplyAsync<T>(WalEntry entry, Func<T> apply, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        long position;
        Task durable;
        Task previous;
        var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            (position, durable) = _wal is null ? (0L, Task.CompletedTask) : _wal.Enqueue(entry);
            previous = _applyTail;
            _applyTail = applied.Task;
        }
        finally
        {
            _writeGate.Release();
        }
        // Past this point the write is not cancelled: once logged it must also be applied.
        Exception? failure = null;
        try
        {
            await durable.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        await previous.ConfigureAwait(false);
        T result = default!;
        try
        {
            if (failure is null) result = apply();
        }
        finally
        {
            applied.SetResult();
        }
        if (failure is not null) throw new IOException($"collection '{Name}': write not durable: {failure.Message}", failure);
        return (position, result);
    }

    /// <summary>Records that the node of <paramref name="internalId"/> (and the neighbours its links
    /// name, whose links an insert may have changed) must go into the next checkpoint. Called under
    /// the write lock.</summary>
    private void TrackWrite(int internalId)
    {
        if (_wal is null) return;
        _dirty.Add(internalId);
        if (!_index.TryExportNode(internalId, out var node)) return;
        foreach (var level in node.Links)
        {
            foreach (var neighbour in level) _dirty.Add(neighbour);
        }
    }
}
