using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using BgeVectorDb.Core.Telemetry;

namespace BgeVectorDb.Core.Inference.Batching;

/// <summary>Batcher metrics: rows per batch (histogram) and rows waiting (gauge), labelled by model and role.</summary>
internal static class InferenceQueueMetrics
{
    private static readonly ConcurrentDictionary<object, Func<Measurement<long>>> Queues = new();

    // Created once; reads every live batcher at collection time.
    private static readonly ObservableGauge<long> QueueRows = EngineMetrics.Meter.CreateObservableGauge("bgevdb_inference_queue_rows",
        () => Queues.Values.Select(f => f()), "{row}", "Rows waiting for an inference batch");

    public static void EnsureCreated() => _ = QueueRows;

    public static void Register(object batcher, Func<Measurement<long>> read)
    {
        EnsureCreated();
        Queues[batcher] = read;
    }

    public static void Unregister(object batcher) => Queues.TryRemove(batcher, out _);
}

public sealed partial class InferenceBatcher<TResult>
{
    private KeyValuePair<string, object?>[]? _metricTags;

    /// <summary>Rows waiting in every priority lane (queued or in a sorted window) and not yet run.</summary>
    public long QueuedRows
    {
        get
        {
            lock (_gate)
            {
                long rows = 0;
                foreach (var lane in _lanes)
                {
                    foreach (var r in lane.Pending)
                    {
                        if (!r.Completion.Task.IsCompleted) rows += r.Rows.Length - r.NextRow;
                    }
                    for (var i = lane.WindowNext; i < lane.Window.Count; i++)
                    {
                        if (!lane.Window[i].Request.Completion.Task.IsCompleted) rows++;
                    }
                }
                return rows;
            }
        }
    }

    /// <summary>Exports this batcher's batch sizes and queue depth, labelled model=<paramref name="modelId"/>, role=<paramref name="role"/>.</summary>
    public void EnableMetrics(string modelId, string role)
    {
        var tags = new[] { EngineMetrics.Tag("model", modelId), EngineMetrics.Tag("role", role) };
        _metricTags = tags;
        InferenceQueueMetrics.Register(this, () => new Measurement<long>(QueuedRows, tags));
    }

    private void RecordBatchMetrics(int rows)
    {
        if (_metricTags is { } tags) EngineMetrics.InferenceBatchRows.Record(rows, tags);
    }

    private void DisableMetrics() => InferenceQueueMetrics.Unregister(this);
}
