using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using BgeVectorDb.Core.Telemetry;

namespace BgeVectorDb.Core.Inference.Batching;

/// <summary>Batcher metrics: rows per batch (histogram), rows and tokens waiting (gauges) and admission
/// rejections (counter), labelled by model and role.</summary>
internal static class InferenceQueueMetrics
{
    private sealed record Source(Func<long> Rows, Func<InferenceBatcherStatistics> Statistics, KeyValuePair<string, object?>[] Tags);

    private static readonly ConcurrentDictionary<object, Source> Sources = new();

    private static readonly ObservableGauge<long> QueueRows = EngineMetrics.Meter.CreateObservableGauge("bgevdb_inference_queue_rows",
        () => Sources.Values.Select(s => new Measurement<long>(s.Rows(), s.Tags)), "{row}", "Rows waiting for an inference batch");

    private static readonly ObservableGauge<long> QueueTokens = EngineMetrics.Meter.CreateObservableGauge("bgevdb_inference_queue_tokens",
        () => Sources.Values.Select(s => new Measurement<long>(s.Statistics().QueuedTokens, s.Tags)), "{token}",
        "Tokens waiting for an inference batch (bounded by the admission limit)");

    private static readonly ObservableCounter<long> Rejected = EngineMetrics.Meter.CreateObservableCounter("bgevdb_inference_rejected",
        () => Sources.Values.Select(s => new Measurement<long>(s.Statistics().Rejected, s.Tags)), "{request}",
        "Inference requests refused by admission control (RESOURCE_EXHAUSTED)");

    public static void EnsureCreated() => _ = (QueueRows, QueueTokens, Rejected);

    public static void Register(object batcher, Func<long> rows, Func<InferenceBatcherStatistics> statistics, KeyValuePair<string, object?>[] tags)
    {
        EnsureCreated();
        Sources[batcher] = new Source(rows, statistics, tags);
    }

    public static void Unregister(object batcher) => Sources.TryRemove(batcher, out _);
}

public sealed partial class InferenceBatcher<TResult>
{
    private KeyValuePair<string, object?>[]? _metricTags;

    /// <summary>Rows waiting (queued, or in a sorted window and not yet run), over every priority lane.</summary>
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
                    rows += lane.Window.Count - lane.WindowNext;
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
        InferenceQueueMetrics.Register(this, () => QueuedRows, () => Statistics, tags);
    }

    private void RecordBatchMetrics(int rows)
    {
        if (_metricTags is { } tags) EngineMetrics.InferenceBatchRows.Record(rows, tags);
    }

    private void DisableMetrics() => InferenceQueueMetrics.Unregister(this);
}
