using System.Diagnostics.Metrics;

namespace BgeVectorDb.Core.Telemetry;

/// <summary>
/// The engine's instruments, on the <see cref="MeterName"/> meter (System.Diagnostics.Metrics; the server
/// exports every "BgeVectorDb.*" meter through OpenTelemetry's Prometheus exporter). Instrument names are
/// the exported series names: counters get a "_total" suffix on export, histograms the usual
/// _bucket/_sum/_count (buckets by unit), no unit suffixes are added. Engine code records here; it never formats or exports.
/// </summary>
/// <remarks>
/// Hooks for other engine parts: a checkpoint is reported with
/// <see cref="Collections.Collection.RecordCheckpoint"/> (count, duration, bytes, WAL position; exported per
/// collection), inference batches are recorded by the batcher itself, and new instruments belong here.
/// </remarks>
public static class EngineMetrics
{
    public const string MeterName = "BgeVectorDb.Core";

    public static readonly Meter Meter = new(MeterName, "1.0");

    /// <summary>Rows per inference batch, by model and role (embed / rerank).</summary>
    public static readonly Histogram<long> InferenceBatchRows = Meter.CreateHistogram<long>("bgevdb_inference_batch_rows", "{row}",
        "Rows (texts or query-document pairs) per inference batch");

    /// <summary>Recall@k of a sampled search: the share of the exact top-k the index returned.</summary>
    public static readonly Histogram<double> Recall = Meter.CreateHistogram<double>("bgevdb_search_recall", "1",
        "Recall@k of sampled searches against an exact rerun (k = the index's result size)");

    /// <summary>Sampled searches rerun exactly and measured.</summary>
    public static readonly Counter<long> RecallSamples = Meter.CreateCounter<long>("bgevdb_recall_samples", "{search}",
        "Sampled searches rerun with the exact index");

    /// <summary>Sampled searches dropped because the rerun queue was full.</summary>
    public static readonly Counter<long> RecallDropped = Meter.CreateCounter<long>("bgevdb_recall_dropped", "{search}",
        "Sampled searches dropped because the recall queue was full");

    /// <summary>Checkpoints taken.</summary>
    public static readonly Counter<long> Checkpoints = Meter.CreateCounter<long>("bgevdb_checkpoints", "{checkpoint}", "Checkpoints taken");

    /// <summary>Time per checkpoint.</summary>
    public static readonly Histogram<double> CheckpointDuration = Meter.CreateHistogram<double>("bgevdb_checkpoint_duration_seconds", "s",
        "Time to take one checkpoint");

    /// <summary>Bytes written by checkpoints.</summary>
    public static readonly Counter<long> CheckpointBytes = Meter.CreateCounter<long>("bgevdb_checkpoint_bytes", "By", "Bytes written by checkpoints");

    /// <summary>Creates every engine instrument now, so an exporter lists them (with no samples) before first use.</summary>
    public static void EnsureCreated()
    {
        _ = Meter;
        InferenceQueueMetrics.EnsureCreated();
    }

    internal static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
}
