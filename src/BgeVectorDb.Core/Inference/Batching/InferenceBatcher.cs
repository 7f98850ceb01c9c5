using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Inference.Batching;

/// <summary>Computes one result per row of a batch, in the same order; the rows are padded by the callee.</summary>
public delegate void InferenceBatchFunction<TResult>(ReadOnlySpan<EncodedInput> rows, Span<TResult> results);

/// <summary>Sees every batch just before it runs (diagnostics, benchmarks).</summary>
internal delegate void InferenceBatchObserver(ReadOnlySpan<EncodedInput> rows);

/// <summary>
/// Dynamic batching shared by concurrent callers: requests (lists of token rows) queue up; one background
/// thread takes a window of pending rows (oldest request first, about
/// <see cref="InferenceBatcherOptions.SortWindowBatches"/> token budgets of them), sorts it by length to cut
/// padding, cuts it into runs bounded by <see cref="InferenceBatcherOptions.MaxBatchTokens"/> padded tokens
/// and <see cref="InferenceBatcherOptions.MaxBatchRows"/> rows, runs them, and completes each request with its
/// rows' results in its own order.
/// </summary>
/// <remarks>
/// A cancelled request completes as cancelled at once; its rows not yet run are dropped (rows already in a
/// running batch finish and are discarded). An exception from the batch function fails every request with a
/// row in that batch. Admission control (priorities, RESOURCE_EXHAUSTED queue bounds) belongs in
/// <see cref="SubmitAsync"/> and in the window choice (<c>TakeWindow</c>).
/// </remarks>
public sealed partial class InferenceBatcher<TResult> : IDisposable
{
    private readonly InferenceBatchFunction<TResult> _run;
    private readonly InferenceBatcherOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Queue<Request> _pending = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Thread _thread;
    private readonly EncodedInput[] _batchRows;
    private readonly RowRef[] _batchRefs;
    private readonly TResult[] _batchResults;
    private List<RowRef> _window = [];
    private bool _disposed;

    /// <summary>Starts the background batching thread.</summary>
    /// <param name="run">Computes a batch; called on the batcher's thread only, one batch at a time.</param>
    /// <param name="options">Batch bounds; null = defaults.</param>
    /// <param name="name">Thread name suffix, for diagnostics.</param>
    /// <param name="logger">Optional logger.</param>
    public InferenceBatcher(InferenceBatchFunction<TResult> run, InferenceBatcherOptions? options = null, string name = "model", ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        _run = run;
        _options = (options ?? new InferenceBatcherOptions()).Clone();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _batchRows = new EncodedInput[_options.MaxBatchRows];
        _batchRefs = new RowRef[_options.MaxBatchRows];
        _batchResults = new TResult[_options.MaxBatchRows];
        _thread = new Thread(Loop) { IsBackground = true, Name = "bge-batcher-" + name };
        _thread.Start();
    }

    /// <summary>The bounds in use (a copy of the options given; changing it has no effect).</summary>
    public InferenceBatcherOptions Options => _options.Clone();

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

    /// <summary>Queues <paramref name="rows"/>; completes with one result per row, same order.</summary>
    /// <exception cref="ObjectDisposedException">The batcher is disposed (also as the task's exception when it
    /// is disposed while the request is pending).</exception>
    public Task<TResult[]> SubmitAsync(IReadOnlyList<EncodedInput> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<TResult[]>(cancellationToken);
        }

        if (rows.Count == 0)
        {
            return Task.FromResult(Array.Empty<TResult>());
        }

        var request = new Request(rows.ToArray());
        if (cancellationToken.CanBeCanceled)
        {
            request.Registration = cancellationToken.Register(
                static state => ((Request)state!).Completion.TrySetCanceled(), request);
        }

        lock (_gate)
        {
            if (_disposed)
            {
                request.Registration.Dispose();
                throw new ObjectDisposedException(GetType().Name);
            }

            _pending.Enqueue(request);
            _signal.Release(); // under the lock: Dispose disposes the semaphore only after setting _disposed
        }

        return request.Completion.Task;
    }

    private void Loop()
    {
        var token = _shutdown.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var window = TakeWindow();
                if (window.Count == 0)
                {
                    _signal.Wait(token);
                    continue;
                }

                RunWindow(window, token);
                window.Clear();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    /// <summary>Takes pending rows, oldest request first, up to the sort window; partially taken requests
    /// stay at the head of the queue. The place for priorities and admission limits.</summary>
    private List<RowRef> TakeWindow()
    {
        long budget = (long)_options.MaxBatchTokens * _options.SortWindowBatches;
        long taken = 0;
        var window = _window;
        lock (_gate)
        {
            while (_pending.Count > 0 && taken < budget)
            {
                var request = _pending.Peek();
                if (request.Completion.Task.IsCompleted)
                {
                    _pending.Dequeue();
                    continue;
                }

                while (request.NextRow < request.Rows.Length && taken < budget)
                {
                    int index = request.NextRow++;
                    int length = request.Rows[index].Length;
                    window.Add(new RowRef(request, index, length, window.Count));
                    taken += Math.Max(length, 1);
                }

                if (request.NextRow == request.Rows.Length)
                {
                    _pending.Dequeue();
                }
            }
        }

        return window;
    }

    private void RunWindow(List<RowRef> window, CancellationToken token)
    {
        window.Sort(static (a, b) => a.Length != b.Length ? b.Length.CompareTo(a.Length) : a.Order.CompareTo(b.Order));
        int next = 0;
        while (next < window.Count && !token.IsCancellationRequested)
        {
            // Longest first: the first live row fixes the padded length of this batch.
            int count = 0;
            int rowCap = _options.MaxBatchRows;
            while (next < window.Count && count < rowCap)
            {
                var row = window[next];
                if (row.Request.Completion.Task.IsCompleted)
                {
                    next++;
                    continue;
                }

                if (count == 0)
                {
                    rowCap = (int)Math.Clamp(_options.MaxBatchTokens / Math.Max(row.Length, 1), 1, _options.MaxBatchRows);
                }

                _batchRefs[count] = row;
                _batchRows[count] = row.Request.Rows[row.Index];
                count++;
                next++;
            }

            if (count > 0)
            {
                RunBatch(count);
            }
        }
    }

    private void RunBatch(int count)
    {
        var rows = _batchRows.AsSpan(0, count);
        var results = _batchResults.AsSpan(0, count);
        try
        {
            Observer?.Invoke(rows);
            RecordBatchMetrics(count);
            _run(rows, results);
        }
        catch (Exception ex)
        {
            LogBatchFailed(_logger, count, ex);
            var captured = ExceptionDispatchInfo.Capture(ex);
            for (int i = 0; i < count; i++)
            {
                var request = _batchRefs[i].Request;
                if (request.Completion.TrySetException(captured.SourceException))
                {
                    request.Registration.Dispose();
                }
            }

            ClearBatch(count);
            return;
        }

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
        Request[] orphans;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            orphans = [.. _pending];
            _pending.Clear();
        }

        DisableMetrics();
        _shutdown.Cancel();
        _thread.Join();
        var disposed = new ObjectDisposedException(GetType().Name);
        foreach (var request in orphans)
        {
            request.Completion.TrySetException(disposed);
        }

        foreach (var row in _window)
        {
            row.Request.Completion.TrySetException(disposed);
        }

        _window = [];
        _signal.Dispose();
        _shutdown.Dispose();
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Error, Message = "Inference batch of {Rows} rows failed")]
    private static partial void LogBatchFailed(ILogger logger, int rows, Exception exception);

    /// <summary>One caller's rows; Remaining and Results are touched by the batcher thread only.</summary>
    private sealed class Request(EncodedInput[] rows)
    {
        public readonly EncodedInput[] Rows = rows;
        public readonly TResult[] Results = new TResult[rows.Length];
        public readonly TaskCompletionSource<TResult[]> Completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Remaining = rows.Length;
        public int NextRow;
        public CancellationTokenRegistration Registration;
    }

    private readonly record struct RowRef(Request Request, int Index, int Length, int Order);
}
