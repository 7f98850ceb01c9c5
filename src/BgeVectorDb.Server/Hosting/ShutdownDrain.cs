using System.Diagnostics;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.Extensions.Options;

namespace BgeVectorDb.Server.Hosting;

/// <summary>
/// Graceful shutdown of the gRPC surface, before Kestrel stops and before the catalog closes. From the moment the
/// host starts stopping (SIGTERM, host stop): health reports NOT_SERVING, new calls are refused with UNAVAILABLE
/// saying the server is shutting down (health checks and reflection still answer), and calls already running go on.
/// When they have all finished, or at the drain deadline (Server:ShutdownTimeoutSeconds less a reserve for closing
/// the catalog: a quarter of the timeout, at most 5 s), every call still running is cancelled and ends with
/// UNAVAILABLE (streams: what was acked before stays durable); a call that does not return within a short grace gets
/// its UNAVAILABLE status without it. Kestrel then finds no request in flight and never resets a connection. The
/// catalog's shutdown checkpoints stop at <see cref="CheckpointDeadline"/>, so the process exits within the timeout.
/// </summary>
internal sealed partial class ShutdownDrain : IHostedLifecycleService, IDisposable
{
    /// <summary>Status message of a call refused because the shutdown had started.</summary>
    internal const string RefusedMessage = "the server is shutting down: this call was not started; retry against another instance or after it restarts";

    /// <summary>Status message of a call the drain deadline ended.</summary>
    internal const string EndedMessage = "the server is shutting down: the call was still running at the shutdown deadline and was ended"
        + " (stream messages acked before this are durable); retry the rest against another instance or after it restarts";

    private static readonly TimeSpan MaxReserve = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MaxGrace = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxCloseMargin = TimeSpan.FromSeconds(1);

    private readonly object _lock = new();
    private readonly CancellationTokenSource _end = new();
    private readonly CancellationTokenSource _checkpointDeadline = new();
    private readonly TaskCompletionSource _abandon = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _workDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _allDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HealthServiceImpl _health;
    private readonly ILogger<ShutdownDrain> _logger;
    private readonly TimeSpan _timeout;
    private readonly CancellationTokenRegistration _stopping;
    private readonly Stopwatch _since = new();
    private int _work;
    private int _all;
    private bool _draining;

    public ShutdownDrain(HealthServiceImpl health, IHostApplicationLifetime lifetime, IOptions<HostOptions> host, ILogger<ShutdownDrain> logger)
    {
        _health = health;
        _logger = logger;
        _timeout = host.Value.ShutdownTimeout;
        // SIGTERM raises ApplicationStopping before the host stops its services: refuse and report from then on.
        _stopping = lifetime.ApplicationStopping.Register(Begin);
    }

    /// <summary>Reserve kept after the drain deadline for Kestrel to stop and the catalog to checkpoint and close.</summary>
    internal static TimeSpan Reserve(TimeSpan timeout) => timeout == Timeout.InfiniteTimeSpan ? MaxReserve : TimeSpan.FromTicks(Math.Min(MaxReserve.Ticks, timeout.Ticks / 4));

    /// <summary>The end of the reserve kept for closing the WALs and stores and exiting, after the shutdown checkpoints'
    /// deadline: half the reserve, at most 1 s.</summary>
    internal static TimeSpan CloseMargin(TimeSpan timeout) => TimeSpan.FromTicks(Math.Min(MaxCloseMargin.Ticks, Reserve(timeout).Ticks / 2));

    /// <summary>Fires when the shutdown checkpoints must stop (Server:ShutdownTimeoutSeconds after the shutdown began,
    /// less <see cref="CloseMargin"/>); never without a timeout.</summary>
    internal CancellationToken CheckpointDeadline => _checkpointDeadline.Token;

    public bool IsDraining
    {
        get
        {
            lock (_lock) return _draining;
        }
    }

    /// <summary>Cancelled when the calls still running must end (drain deadline, or all counted work done).</summary>
    internal CancellationToken Ending => _end.Token;

    /// <summary>Completes when calls that ignored <see cref="Ending"/> get their status without their handler.</summary>
    internal Task Abandoned => _abandon.Task;

    /// <summary>Sets a health status unless the shutdown started (then every service stays NOT_SERVING).</summary>
    internal void SetHealth(string service, bool serving)
    {
        lock (_lock)
        {
            _health.SetStatus(service, serving && !_draining ? HealthCheckResponse.Types.ServingStatus.Serving : HealthCheckResponse.Types.ServingStatus.NotServing);
        }
    }

    /// <summary>Admits a call: false once the shutdown started, unless <paramref name="counted"/> is false (health,
    /// reflection: they still answer and do not hold the drain open).</summary>
    internal bool TryEnter(bool counted)
    {
        lock (_lock)
        {
            if (_draining && counted) return false;
            _all++;
            if (counted) _work++;
            return true;
        }
    }

    internal void Exit(bool counted)
    {
        lock (_lock)
        {
            _all--;
            if (counted) _work--;
            if (!_draining) return;
            if (_work == 0) _workDone.TrySetResult();
            if (_all == 0) _allDone.TrySetResult();
        }
    }

    private void Begin()
    {
        int work;
        lock (_lock)
        {
            if (_draining) return;
            _draining = true;
            _since.Start();
            if (_timeout != Timeout.InfiniteTimeSpan) _checkpointDeadline.CancelAfter(_timeout - CloseMargin(_timeout));
            work = _work;
            if (_work == 0) _workDone.TrySetResult();
            if (_all == 0) _allDone.TrySetResult();
            _health.SetStatus("", HealthCheckResponse.Types.ServingStatus.NotServing);
            _health.SetStatus(EngineStartup.WritesService, HealthCheckResponse.Types.ServingStatus.NotServing);
        }
        LogBegin(_logger, work, _timeout == Timeout.InfiniteTimeSpan ? -1 : (_timeout - Reserve(_timeout)).TotalSeconds);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs before any hosted service stops (Kestrel included), within the host's shutdown timeout.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        Begin();
        var deadline = _timeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : _timeout - Reserve(_timeout) - _since.Elapsed;
        var finished = await WaitAsync(_workDone.Task, deadline, cancellationToken).ConfigureAwait(false);
        int ending;
        lock (_lock) ending = _work;
        await _end.CancelAsync().ConfigureAwait(false);
        if (!finished) LogDeadline(_logger, ending, _since.Elapsed.TotalSeconds);
        var grace = _timeout == Timeout.InfiniteTimeSpan ? MaxGrace : TimeSpan.FromTicks(Math.Min(MaxGrace.Ticks, Reserve(_timeout).Ticks / 2));
        if (!await WaitAsync(_allDone.Task, grace, cancellationToken).ConfigureAwait(false))
        {
            int left;
            lock (_lock) left = _all;
            LogAbandoned(_logger, left);
        }
        _abandon.TrySetResult();
        LogDrained(_logger, _since.Elapsed.TotalSeconds);
    }

    private static async Task<bool> WaitAsync(Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (task.IsCompleted) return true;
        if (timeout != Timeout.InfiniteTimeSpan && timeout <= TimeSpan.Zero) return false;
        try
        {
            await task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _stopping.Dispose();
        _end.Dispose();
        _checkpointDeadline.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: health NOT_SERVING, new calls refused with UNAVAILABLE; {Calls} calls in flight get up to {Seconds:F1} s to finish")]
    private static partial void LogBegin(ILogger logger, int calls, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown deadline after {Seconds:F1} s: ending {Calls} calls still running with UNAVAILABLE")]
    private static partial void LogDeadline(ILogger logger, int calls, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Calls} calls did not return after being cancelled; their clients get UNAVAILABLE without them")]
    private static partial void LogAbandoned(ILogger logger, int calls);

    [LoggerMessage(Level = LogLevel.Information, Message = "gRPC calls drained in {Seconds:F1} s")]
    private static partial void LogDrained(ILogger logger, double seconds);
}
