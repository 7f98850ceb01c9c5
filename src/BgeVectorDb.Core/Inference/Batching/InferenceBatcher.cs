using System.Diagnostics;
using System.Runtime.ExceptionServices;
using BgeVectorDb.Common.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Inference.Batching;

/// <summary>Computes one result per row of a batch, in the same order; the rows are padded by the callee.</summary>
public delegate void InferenceBatchFunction<TResult>(ReadOnlySpan<EncodedInput> rows, Span<TResult> results);

/// <summary>Sees every batch just before it runs (diagnostics, benchmarks).</summary>
internal delegate void InferenceBatchObserver(ReadOnlySpan<EncodedInput> rows);

/// <summary>
/// The inference scheduler of one model, shared by every caller (ingest embedding, query embedding, reranking):
/// requests (lists of token rows) queue in one lane per <see cref="InferencePriority"/>; one background thread
/// repeatedly chooses a lane, cuts ONE batch from it and runs it, so a request of a higher lane waits at most for
/// the batch in flight. Within a lane, rows are taken oldest request first into a window of about
/// <see cref="InferenceBatcherOptions.SortWindowBatches"/> token budgets, sorted by length (longest first) to cut
/// padding, and cut into runs bounded by <see cref="InferenceBatcherOptions.MaxBatchTokens"/> padded tokens and
/// <see cref="InferenceBatcherOptions.MaxBatchRows"/> rows; a large request is thereby split over as many runs as
/// it needs. Each request completes with its rows' results in its own order.
/// </summary>
/// <remarks>
/// <para>Lane choice: the highest-priority lane with rows waiting, except that a lane passed over for
/// <see cref="InferenceBatcherOptions.StarvationLimit"/> consecutive batches goes next (starvation protection).
/// A model run cannot be interrupted, so a query waits for the batch in flight: ingest-lane batches are therefore
/// sized to last about <see cref="InferenceBatcherOptions.IngestBatchMilliseconds"/> at this model's measured
/// throughput (padded tokens per second, a moving average over its runs), never above the token budget. On a fast
/// device that is the whole budget; on a CPU it bounds how long a query waits behind ingest.</para>
/// <para>Admission: waiting tokens over all lanes are bounded by <see cref="InferenceBatcherOptions.MaxQueuedTokens"/>;
/// a request that does not fit fails at once with <see cref="EngineException"/> ResourceExhausted.</para>
/// <para>Cancellation (which includes a gRPC deadline, carried by the token): the request completes as cancelled
/// at once, its waiting tokens are released from the bound at once, and its rows not yet in a running batch are
/// dropped (rows already running finish and are discarded). An exception from the batch function fails every
/// request with a row in that batch.</para>
/// </remarks>
public sealed partial class InferenceBatcher<TResult> : IDisposable
{
    private static readonly int LaneCount = Enum.GetValues<InferencePriority>().Length;
    private const double InitialTokensPerSecond = 4096;
    private const long MinMeasuredTokens = 128;

    private readonly InferenceBatchFunction<TResult> _run;
    private readonly InferenceBatcherOptions _options;
    private readonly string _name;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Lane[] _lanes;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Thread _thread;
    private readonly EncodedInput[] _batchRows;
    private readonly RowRef[] _batchRefs;
    private readonly TResult[] _batchResults;
    private double _tokensPerSecond;
    private long _queuedTokens;
    private long _batches;
    private long _rowsRun;
    private long _paddedTokens;
    private long _runTicks;
    private long _rejected;
    private bool _disposed;

    /// <summary>Starts the background batching thread.</summary>
    /// <param name="run">Computes a batch; called on the batcher's thread only, one batch at a time.</param>
    /// <param name="options">Batch bounds; null = defaults.</param>
    /// <param name="name">Model name for diagnostics and the queue-full message.</param>
    /// <param name="logger">Optional logger.</param>
    public InferenceBatcher(InferenceBatchFunction<TResult> run, InferenceBatcherOptions? options = null, string name = "model", ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        _run = run;
        _options = (options ?? new InferenceBatcherOptions()).Clone();
        _options.Validate();
        _name = name;
        _logger = logger ?? NullLogger.Instance;
        _lanes = new Lane[LaneCount];
        for (int i = 0; i < _lanes.Length; i++)
        {
            _lanes[i] = new Lane((InferencePriority)i);
        }

        _batchRows = new EncodedInput[_options.MaxBatchRows];
        _batchRefs = new RowRef[_options.MaxBatchRows];
        _batchResults = new TResult[_options.MaxBatchRows];
        _thread = new Thread(Loop) { IsBackground = true, Name = "bge-batcher-" + name };
        _thread.Start();
    }

    /// <summary>The bounds in use (a copy of the options given; changing it has no effect).</summary>
    public InferenceBatcherOptions Options => _options.Clone();

    /// <summary>Counters since start (batches, rows, padded tokens, time inside the batch function, rejections)
    /// and the tokens waiting now.</summary>
    public InferenceBatcherStatistics Statistics
    {
        get
        {
            lock (_gate)
            {
                return new InferenceBatcherStatistics(_batches, _rowsRun, _paddedTokens,
                    TimeSpan.FromSeconds((double)_runTicks / Stopwatch.Frequency), _rejected, _queuedTokens, _tokensPerSecond, IngestBudget());
            }
        }
    }

    /// <summary>True once <see cref="Dispose"/> has started.</summary>
    internal bool IsDisposed
    {
        get
        {
            lock (_gate)
            {
                return _disposed;
            }
        }
    }

    /// <summary>Called with each batch just before it runs; set before submitting.</summary>
    internal InferenceBatchObserver? Observer { get; set; }

    /// <summary>Queues <paramref name="rows"/> in the <see cref="InferencePriority.Ingest"/> lane.</summary>
    public Task<TResult[]> SubmitAsync(IReadOnlyList<EncodedInput> rows, CancellationToken cancellationToken = default) =>
        SubmitAsync(rows, InferencePriority.Ingest, cancellationToken);

    /// <summary>Queues <paramref name="rows"/> in the lane of <paramref name="priority"/>; completes with one
    /// result per row, same order.</summary>
    /// <returns>The results; a task faulted with <see cref="EngineException"/> ResourceExhausted when the queue
    /// bound would be passed; a cancelled task when <paramref name="cancellationToken"/> fires first.</returns>
    /// <exception cref="ObjectDisposedException">The batcher is disposed (also as the task's exception when it
    /// is disposed while the request is pending).</exception>
    public Task<TResult[]> SubmitAsync(IReadOnlyList<EncodedInput> rows, InferencePriority priority, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if ((uint)priority >= (uint)LaneCount)
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority, "unknown priority");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult[]>(cancellationToken);
        }

        if (rows.Count == 0)
        {
            return Task.FromResult(Array.Empty<TResult>());
        }

        var request = new Request(rows.ToArray()) { Lane = priority };
        if (cancellationToken.CanBeCanceled)
        {
            request.Registration = cancellationToken.Register(static state =>
            {
                var (batcher, r) = ((InferenceBatcher<TResult>, Request))state!;
                batcher.OnCancelled(r);
            }, (this, request));
        }

        lock (_gate)
        {
            if (_disposed)
            {
                request.Registration.Dispose();
                throw new ObjectDisposedException(GetType().Name);
            }

            if (request.Completion.Task.IsCompleted)
            {
                return request.Completion.Task; // cancelled while being set up
            }

            if (_queuedTokens > 0 && _queuedTokens + request.Tokens > _options.MaxQueuedTokens)
            {
                _rejected++;
                var queued = _queuedTokens;
                request.Registration.Dispose();
                return Task.FromException<TResult[]>(new EngineException(EngineErrorKind.ResourceExhausted,
                    $"inference queue of model '{_name}' is full: {queued} tokens waiting + {request.Tokens} requested exceeds " +
                    $"max_queued_tokens={_options.MaxQueuedTokens} (Inference:MaxQueuedTokens; {priority} request of {request.Rows.Length} texts); retry after a backoff"));
            }

            request.QueuedTokens = request.Tokens;
            _queuedTokens += request.Tokens;
            LogQueued(_logger, priority, request.Rows.Length, request.Tokens, _queuedTokens, _name);
            var lane = _lanes[(int)priority];
            lane.Pending.Enqueue(request);
            _signal.Release(); // under the lock: Dispose disposes the semaphore only after setting _disposed
        }

        return request.Completion.Task;
    }

    private void OnCancelled(Request request)
    {
        lock (_gate)
        {
            // Inside the lock, so that no batch is cut from this request after its tokens were released
            // (continuations run asynchronously).
            long released = request.QueuedTokens;
            Release(request);
            if (request.Completion.TrySetCanceled() && released > 0)
            {
                LogCancelled(_logger, request.Lane, released, _queuedTokens, _name);
            }
        }
    }

    /// <summary>Gives the tokens a request still has waiting back to the queue bound (under the gate).</summary>
    private void Release(Request request)
    {
        _queuedTokens -= request.QueuedTokens;
        request.QueuedTokens = 0;
    }

    private void Loop()
    {
        var token = _shutdown.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                int count;
                lock (_gate)
                {
                    count = NextBatch();
                }

                if (count == 0)
                {
                    _signal.Wait(token);
                    continue;
                }

                RunBatch(count);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>Chooses a lane and cuts one batch from it into the batch buffers (under the lock); 0 = nothing
    /// waits.</summary>
    private int NextBatch()
    {
        Lane? chosen = null;
        foreach (var lane in _lanes)
        {
            lane.DropCompletedHead();
        }

        // Starvation protection first: the lane passed over longest, once past the limit.
        foreach (var lane in _lanes)
        {
            if (lane.HasWork && lane.PassedOver >= _options.StarvationLimit && (chosen is null || lane.PassedOver > chosen.PassedOver))
            {
                chosen = lane;
            }
        }

        if (chosen is null)
        {
            foreach (var lane in _lanes)
            {
                if (lane.HasWork)
                {
                    chosen = lane;
                    break;
                }
            }
        }

        if (chosen is null)
        {
            return 0;
        }

        int budget = chosen.Priority == InferencePriority.Ingest ? IngestBudget() : _options.MaxBatchTokens;
        int count = Cut(chosen, budget);
        if (count == 0)
        {
            return NextBatch(); // the chosen lane held only cancelled rows; they are gone now
        }

        chosen.PassedOver = 0;
        for (int i = (int)chosen.Priority + 1; i < _lanes.Length; i++)
        {
            if (_lanes[i].HasWork)
            {
                _lanes[i].PassedOver++;
            }
        }

        return count;
    }

    /// <summary>Token budget of an ingest batch: what this model runs in
    /// <see cref="InferenceBatcherOptions.IngestBatchMilliseconds"/> (at least 1, at most the budget).</summary>
    private int IngestBudget()
    {
        if (_options.IngestBatchMilliseconds == 0)
        {
            return _options.MaxBatchTokens;
        }

        // Before the first measurement: a conservative start, adjusted after the first runs.
        double rate = _tokensPerSecond > 0 ? _tokensPerSecond : InitialTokensPerSecond;
        return (int)Math.Clamp(rate * _options.IngestBatchMilliseconds / 1000, 1, _options.MaxBatchTokens);
    }

    /// <summary>Cuts the next batch of <paramref name="lane"/> (refilling its sorted window when it is used up).</summary>
    private int Cut(Lane lane, int budget)
    {
        if (lane.WindowNext >= lane.Window.Count)
        {
            lane.RefillWindow((long)_options.MaxBatchTokens * _options.SortWindowBatches);
        }

        var window = lane.Window;
        int count = 0;
        int rowCap = _options.MaxBatchRows;
        while (lane.WindowNext < window.Count && count < rowCap)
        {
            var row = window[lane.WindowNext];
            if (row.Request.Completion.Task.IsCompleted)
            {
                lane.WindowNext++;
                continue;
            }

            if (count == 0)
            {
                // Longest first: the first live row fixes the padded length of this batch.
                rowCap = (int)Math.Clamp(budget / Math.Max(row.Length, 1), 1, _options.MaxBatchRows);
            }

            int tokens = Math.Max(row.Length, 1);
            row.Request.QueuedTokens -= tokens;
            _queuedTokens -= tokens;
            _batchRefs[count] = row;
            _batchRows[count] = row.Request.Rows[row.Index];
            count++;
            lane.WindowNext++;
        }

        if (lane.WindowNext >= window.Count)
        {
            window.Clear();
            lane.WindowNext = 0;
        }

        return count;
    }

    private void RunBatch(int count)
    {
        var rows = _batchRows.AsSpan(0, count);
        var results = _batchResults.AsSpan(0, count);
        long started = Stopwatch.GetTimestamp();
        try
        {
            Observer?.Invoke(rows);
            RecordBatchMetrics(count);
            _run(rows, results);
        }
        catch (Exception ex)
        {
            LogBatchFailed(_logger, count, ex);
            Account(rows, started);
            var captured = ExceptionDispatchInfo.Capture(ex);
            for (int i = 0; i < count; i++)
            {
                var request = _batchRefs[i].Request;
                bool failed;
                lock (_gate)
                {
                    Release(request); // its other rows are dropped
                    failed = request.Completion.TrySetException(captured.SourceException);
                }

                if (failed)
                {
                    request.Registration.Dispose();
                }
            }

            ClearBatch(count);
            return;
        }

        Account(rows, started);
        for (int i = 0; i < count; i++)
        {
            var (request, index, _, _) = _batchRefs[i];
            request.Results[index] = results[i];
            if (--request.Remaining == 0 && request.Completion.TrySetResult(request.Results))
            {
                request.Registration.Dispose();
            }
        }

        ClearBatch(count);
    }

    private void Account(ReadOnlySpan<EncodedInput> rows, long started)
    {
        long ended = Stopwatch.GetTimestamp();
        int longest = 0;
        foreach (var row in rows)
        {
            longest = Math.Max(longest, row.Length);
        }

        lock (_gate)
        {
            _batches++;
            _rowsRun += rows.Length;
            _paddedTokens += (long)rows.Length * longest;
            _runTicks += ended - started;
            long padded = (long)rows.Length * longest;
            double seconds = (double)(ended - started) / Stopwatch.Frequency;
            if (padded >= MinMeasuredTokens && seconds > 0)
            {
                // Moving average of the throughput; tiny runs (a lone query) say little about it.
                double rate = padded / seconds;
                _tokensPerSecond = _tokensPerSecond == 0 ? rate : (0.7 * _tokensPerSecond) + (0.3 * rate);
            }
        }
    }

    private void ClearBatch(int count)
    {
        Array.Clear(_batchRows, 0, count);
        Array.Clear(_batchRefs, 0, count);
        Array.Clear(_batchResults, 0, count);
    }

    /// <summary>Stops the thread (after the batch in flight) and fails pending requests with
    /// <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        DisableMetrics();
        _shutdown.Cancel();
        _thread.Join();
        var disposed = new ObjectDisposedException(GetType().Name);
        lock (_gate)
        {
            foreach (var lane in _lanes)
            {
                foreach (var request in lane.Pending)
                {
                    request.Completion.TrySetException(disposed);
                }

                foreach (var row in lane.Window)
                {
                    row.Request.Completion.TrySetException(disposed);
                }

                lane.Pending.Clear();
                lane.Window.Clear();
                lane.WindowNext = 0;
            }

            _queuedTokens = 0;
        }

        _signal.Dispose();
        _shutdown.Dispose();
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "Inference batch of {Rows} rows failed")]
    private static partial void LogBatchFailed(ILogger logger, int rows, Exception exception);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Debug, Message = "Queued {Priority} request of {Rows} rows, {Tokens} tokens ({Waiting} waiting) on model {Model}")]
    private static partial void LogQueued(ILogger logger, InferencePriority priority, int rows, long tokens, long waiting, string model);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, Message = "Cancelled {Priority} request released {Released} waiting tokens ({Waiting} still waiting) on model {Model}")]
    private static partial void LogCancelled(ILogger logger, InferencePriority priority, long released, long waiting, string model);

    /// <summary>One caller's rows; Remaining and Results are touched by the batcher thread only, QueuedTokens
    /// under the gate.</summary>
    private sealed class Request(EncodedInput[] rows)
    {
        public readonly EncodedInput[] Rows = rows;
        public readonly TResult[] Results = new TResult[rows.Length];
        public readonly TaskCompletionSource<TResult[]> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly long Tokens = rows.Sum(r => (long)Math.Max(r.Length, 1));
        public InferencePriority Lane;
        public int Remaining = rows.Length;
        public int NextRow;
        public long QueuedTokens;
        public CancellationTokenRegistration Registration;
    }

    private readonly record struct RowRef(Request Request, int Index, int Length, int Order);

    /// <summary>One priority's queue and its current sorted window; touched under the gate only.</summary>
    private sealed class Lane(InferencePriority priority)
    {
        public readonly InferencePriority Priority = priority;
        public readonly Queue<Request> Pending = new();
        public readonly List<RowRef> Window = [];
        public int WindowNext;
        public int PassedOver;

        public bool HasWork => Pending.Count > 0 || WindowNext < Window.Count;

        public void DropCompletedHead()
        {
            while (Pending.Count > 0 && Pending.Peek().Completion.Task.IsCompleted)
            {
                Pending.Dequeue();
            }

            while (WindowNext < Window.Count && Window[WindowNext].Request.Completion.Task.IsCompleted)
            {
                WindowNext++;
            }

            if (WindowNext >= Window.Count && Window.Count > 0)
            {
                Window.Clear();
                WindowNext = 0;
            }
        }

        /// <summary>Takes waiting rows, oldest request first, up to <paramref name="budget"/> tokens; a partly
        /// taken request stays at the head of the queue. Sorts them longest first (ties: arrival order).</summary>
        public void RefillWindow(long budget)
        {
            Window.Clear();
            WindowNext = 0;
            long taken = 0;
            while (Pending.Count > 0 && taken < budget)
            {
                var request = Pending.Peek();
                if (request.Completion.Task.IsCompleted)
                {
                    Pending.Dequeue();
                    continue;
                }

                while (request.NextRow < request.Rows.Length && taken < budget)
                {
                    int index = request.NextRow++;
                    int length = request.Rows[index].Length;
                    Window.Add(new RowRef(request, index, length, Window.Count));
                    taken += Math.Max(length, 1);
                }

                if (request.NextRow == request.Rows.Length)
                {
                    Pending.Dequeue();
                }
            }

            Window.Sort(static (a, b) => a.Length != b.Length ? b.Length.CompareTo(a.Length) : a.Order.CompareTo(b.Order));
        }
    }
}

/// <summary>A snapshot of an <see cref="InferenceBatcher{TResult}"/>'s counters.</summary>
/// <param name="Batches">Model runs since start.</param>
/// <param name="Rows">Rows run.</param>
/// <param name="PaddedTokens">Sum over runs of rows × longest row.</param>
/// <param name="RunTime">Wall time inside the batch function (the model run: ONNX Runtime plus input/output copies).</param>
/// <param name="Rejected">Requests refused because the queue bound would be passed.</param>
/// <param name="QueuedTokens">Tokens waiting now (not yet in a running batch).</param>
/// <param name="TokensPerSecond">Measured throughput (padded tokens per second, moving average; 0 before any run).</param>
/// <param name="IngestBatchTokens">Token budget of the next ingest batch.</param>
public sealed record InferenceBatcherStatistics(long Batches, long Rows, long PaddedTokens, TimeSpan RunTime, long Rejected, long QueuedTokens,
    double TokensPerSecond, int IngestBatchTokens);
