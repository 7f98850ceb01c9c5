using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Telemetry;

/// <summary>What the index returned for one sampled search (internal ids), to be checked against an exact rerun.</summary>
internal sealed record RecallProbe(IRecallTarget Collection, float[] Query, int K, Search.Filter? Filter, int? ExcludeId, int[] Returned);

/// <summary>What the sampler reruns a probe on (a collection).</summary>
internal interface IRecallTarget
{
    string Name { get; }

    /// <summary>Recall@k of the probe's returned ids against an exact rerun; null when nothing matches.</summary>
    double? MeasureRecall(RecallProbe probe);
}

/// <summary>
/// Live recall telemetry. A fraction (<see cref="SampleRate"/>) of index searches is queued, and one
/// background worker reruns each with an exact scan and records recall@k (share of the exact top-k that
/// the index returned) per collection. The search path only draws a random number and, for a sampled
/// search, tries to enqueue: the queue is bounded and a sample is dropped (and counted) when it is full, so
/// sampling never waits or slows a search.
/// </summary>
public sealed partial class RecallSampler : IAsyncDisposable
{
    private readonly Channel<RecallProbe> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _worker;
    private readonly ILogger _logger;

    /// <param name="sampleRate">Fraction of searches sampled, 0 (off) to 1 (all).</param>
    /// <param name="queueCapacity">Sampled searches waiting for a rerun before new samples are dropped.</param>
    public RecallSampler(double sampleRate, int queueCapacity = 64, ILogger? logger = null)
    {
        if (!(sampleRate is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "must be between 0 and 1");
        ArgumentOutOfRangeException.ThrowIfLessThan(queueCapacity, 1);
        SampleRate = sampleRate;
        _logger = logger ?? NullLogger.Instance;
        _queue = Channel.CreateBounded<RecallProbe>(new BoundedChannelOptions(queueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the caller drops and counts
            SingleReader = true,
        });
        _worker = Task.Run(WorkAsync);
    }

    public double SampleRate { get; }

    /// <summary>True when this search should be sampled (cheap; called on the search path).</summary>
    internal bool ShouldSample() => SampleRate > 0 && (SampleRate >= 1 || Random.Shared.NextDouble() < SampleRate);

    /// <summary>Queues a probe without waiting; false (and counted as dropped) when the queue is full.</summary>
    internal bool TryEnqueue(RecallProbe probe)
    {
        if (_queue.Writer.TryWrite(probe)) return true;
        EngineMetrics.RecallDropped.Add(1, EngineMetrics.Tag("collection", probe.Collection.Name));
        return false;
    }

    private async Task WorkAsync()
    {
        try
        {
            await foreach (var probe in _queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                try
                {
                    if (probe.Collection.MeasureRecall(probe) is { } recall)
                    {
                        var tag = EngineMetrics.Tag("collection", probe.Collection.Name);
                        EngineMetrics.Recall.Record(recall, tag);
                        EngineMetrics.RecallSamples.Add(1, tag);
                    }
                }
                catch (ObjectDisposedException)
                {
                    // The collection was deleted or closed meanwhile.
                }
                catch (Exception ex)
                {
                    LogRerunFailed(_logger, probe.Collection.Name, ex);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await _worker.ConfigureAwait(false);
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "Recall rerun failed for collection {Collection}")]
    private static partial void LogRerunFailed(ILogger logger, string collection, Exception exception);
}
