using BgeVectorDb.Common.Errors;

namespace BgeVectorDb.Core.Storage;

/// <summary>
/// The log-then-apply protocol of one collection: a write is enqueued in the WAL under a short gate (this fixes log
/// order), waits until its entry is durable (concurrent writers share the WAL's commit: group commit), then is applied
/// in log order, and only then returns. A write whose entry did not become durable is not applied. Without a WAL (an
/// in-memory collection) writes are applied in call order at position 0. Checkpoints hold writes with
/// <see cref="HoldAsync"/> for their consistent cut.
/// </summary>
internal sealed class DurableApplier
{
    private readonly string _name;
    private readonly Func<Exception> _closedError;
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Apply order = log order: each write waits for the one logged before it (guarded by _gate).
    private Task _applyTail = Task.CompletedTask;
    private long _writes;
    private volatile bool _closed;

    /// <param name="name">The collection's name, for error messages.</param>
    /// <param name="wal">The collection's WAL; null = in memory.</param>
    /// <param name="closedError">The error a write gets once the collection is closed (deleted, or the server is
    /// shutting down).</param>
    public DurableApplier(string name, IWriteAheadLog? wal, Func<Exception> closedError)
    {
        _name = name;
        Wal = wal;
        _closedError = closedError;
    }

    public IWriteAheadLog? Wal { get; }

    /// <summary>Set by <see cref="CloseAsync"/>: later writes fail with the closed error.</summary>
    public bool Closed => _closed;

    /// <summary>Throws the closed error once <see cref="CloseAsync"/> ran.</summary>
    public void ThrowIfClosed()
    {
        if (_closed) throw _closedError();
    }

    /// <summary>Documents written (upserted or deleted) since the last <see cref="HoldAsync"/> cut reset the count.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>Logs <paramref name="entry"/> then applies it with <paramref name="apply"/>. Only the enqueue is
    /// serialised, so concurrent writers share the WAL commit; each applies in log order once its entry is durable,
    /// and returns only then. A write the WAL could not make durable is not applied: RESOURCE_EXHAUSTED when the
    /// disk is full, UNAVAILABLE otherwise.</summary>
    public async Task<(long Position, T Result)> LogThenApplyAsync<T>(WalEntry entry, Func<T> apply, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        long position;
        Task durable;
        Task previous;
        var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            if (_closed) throw _closedError();
            try
            {
                (position, durable) = Wal is null ? (0L, Task.CompletedTask) : Wal.Enqueue(entry);
            }
            catch (WalUnavailableException ex)
            {
                throw NotDurable(ex);
            }
            previous = _applyTail;
            _applyTail = applied.Task;
        }
        finally
        {
            _gate.Release();
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
            if (failure is null)
            {
                result = apply();
                Interlocked.Add(ref _writes, entry switch { UpsertEntry u => u.Documents.Count, DeleteEntry d => d.Ids.Count, _ => 1 });
            }
        }
        finally
        {
            applied.SetResult();
        }
        if (failure is not null) throw NotDurable(failure);
        return (position, result);
    }

    /// <summary>A write the WAL could not make durable: RESOURCE_EXHAUSTED when the disk is full (retry once space
    /// is freed), UNAVAILABLE for any other WAL failure (an I/O error, the log closed under it at shutdown); the write
    /// was not applied.</summary>
    private EngineException NotDurable(Exception failure) => new(
        failure is WalUnavailableException { DiskFull: true } ? EngineErrorKind.ResourceExhausted : EngineErrorKind.Unavailable,
        $"collection '{_name}': write not durable, not applied: {failure.Message}", inner: failure);

    /// <summary>Holds writes for a checkpoint's cut: waits for the gate and for every logged write to be applied,
    /// resets <see cref="Writes"/>; writes wait (not fail) until the hold is disposed. The returned WAL tail is the
    /// position the state now covers exactly.</summary>
    public async Task<WriteHold> HoldAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var since = System.Diagnostics.Stopwatch.GetTimestamp();
            await _applyTail.ConfigureAwait(false);
            return new WriteHold(this, Wal?.TailPosition ?? 0, since);
        }
        catch
        {
            _gate.Release();
            throw;
        }
    }

    /// <summary>Closes: writes already logged finish and are acked, later ones fail with the closed error.
    /// Idempotent.</summary>
    public async Task CloseAsync()
    {
        Task applied;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _closed = true;
            applied = _applyTail;
        }
        finally
        {
            _gate.Release();
        }
        await applied.ConfigureAwait(false);
    }

    /// <summary>Writes held for a cut at <see cref="Position"/>; dispose to let them go on.</summary>
    internal sealed class WriteHold(DurableApplier applier, long position, long heldSince) : IDisposable
    {
        private int _released;

        /// <summary>Stopwatch timestamp from which writes were held.</summary>
        public long HeldSince { get; } = heldSince;

        /// <summary>The WAL tail while held: every write logged before it is applied, none after it is.</summary>
        public long Position { get; } = position;

        /// <summary>Counts the cut covers: resets the applier's <see cref="Writes"/>.</summary>
        public void ResetWrites() => Interlocked.Exchange(ref applier._writes, 0);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) applier._gate.Release();
        }
    }
}
