using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace BgeVectorDb.Core.Telemetry;

/// <summary>Inference batcher metrics: rows and tokens waiting (gauges) and admission rejections (counter), labelled
/// by model and role; each batcher registers how to read its figures (rows per batch: <see cref="EngineMetrics.InferenceBatchRows"/>).</summary>
internal static class InferenceQueueMetrics
{
    private sealed record Source(Func<long> Rows, Func<long> Tokens, Func<long> Rejected, KeyValuePair<string, object?>[] Tags);

    private static readonly ConcurrentDictionary<object, Source> Sources = new();

    private static readonly ObservableGauge<long> QueueRows = EngineMetrics.Meter.CreateObservableGauge("bgevdb_inference_queue_rows",
        () => Sources.Values.Select(s => new Measurement<long>(s.Rows(), s.Tags)), "{row}", "Rows waiting for an inference batch");

    private static readonly ObservableGauge<long> QueueTokens = EngineMetrics.Meter.CreateObservableGauge("bgevdb_inference_queue_tokens",
        () => Sources.Values.Select(s => new Measurement<long>(s.Tokens(), s.Tags)), "{token}",
        "Tokens waiting for an inference batch (bounded by the admission limit)");

    private static readonly ObservableCounter<long> Rejected = EngineMetrics.Meter.CreateObservableCounter("bgevdb_inference_rejected",
        () => Sources.Values.Select(s => new Measurement<long>(s.Rejected(), s.Tags)), "{request}",
        "Inference requests refused by admission control (RESOURCE_EXHAUSTED)");

    public static void EnsureCreated() => _ = (QueueRows, QueueTokens, Rejected);

    public static void Register(object batcher, Func<long> rows, Func<long> tokens, Func<long> rejected, KeyValuePair<string, object?>[] tags)
    {
        EnsureCreated();
        Sources[batcher] = new Source(rows, tokens, rejected, tags);
    }

    public static void Unregister(object batcher) => Sources.TryRemove(batcher, out _);
}
