using System.Diagnostics.Metrics;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Server.Hosting;

namespace BgeVectorDb.Server.Metrics;

/// <summary>
/// The server's instruments (meter "BgeVectorDb.Server"): requests by RPC and status code, latency per RPC
/// and per search stage, and gauges read at scrape time from the catalog (documents, vectors, index
/// memory, WAL size and tail, checkpoint figures, recent recall per collection) and from the model host
/// (execution provider in use). The per-collection gauges live in a <see cref="KeyedGauges{T}"/> so that deleted
/// collections never use up the exporter's label sets.
/// </summary>
internal sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "BgeVectorDb.Server";

    private readonly Meter _meter = new(MeterName, "1.0");
    private readonly IServiceProvider _services;
    private readonly KeyedGauges<Collection> _collections;

    public ServerMetrics(IServiceProvider services)
    {
        _services = services;
        Requests = _meter.CreateCounter<long>("bgevdb_requests", "{request}", "gRPC calls finished, by RPC and status code");
        RequestDuration = _meter.CreateHistogram<double>("bgevdb_request_duration_seconds", "s", "gRPC call latency by RPC");
        StageDuration = _meter.CreateHistogram<double>("bgevdb_search_stage_duration_seconds", "s",
            "Search latency per stage (embed, ann, fetch, rerank) and collection");

        _collections = new KeyedGauges<Collection>(MeterName, "collection", Collections, c => c.Name,
        [
            new("bgevdb_collection_documents", "{document}", "Documents per collection", c => c.Count),
            new("bgevdb_collection_vectors", "{vector}", "Vectors in the index per collection", c => c.VectorCount),
            new("bgevdb_index_memory_bytes", "By", "Index memory per collection", c => c.GetStatistics().MemoryBytes),
            new("bgevdb_wal_bytes", "By", "Write-ahead log size per collection", c => c.GetStatistics().WalBytes),
            new("bgevdb_collection_disk_bytes", "By", "Disk bytes per collection: WAL, store generations and their checkpoints",
                c => c.GetStatistics().DiskBytes),
            new("bgevdb_wal_tail_position", "By", "End of the committed write-ahead log", c => c.GetStatistics().WalTail),
            new("bgevdb_wal_uncheckpointed_bytes", "By", "Write-ahead log bytes past the last checkpoint (replayed at recovery)",
                c => Math.Max(0, c.GetStatistics().WalTail - c.LastCheckpoint.WalPosition)),
            new("bgevdb_checkpoint_wal_position", "By", "WAL position covered by the last checkpoint (0 = none yet)", c => c.LastCheckpoint.WalPosition),
            new("bgevdb_checkpoint_timestamp_seconds", "s", "Unix time of the last checkpoint (0 = none yet)", c => c.LastCheckpoint.UnixTimeMs / 1000.0),
            new("bgevdb_recall_at_k", "1", "Mean recall@k of the last 256 sampled searches per collection", c => c.RecentRecall),
        ]);
        _meter.CreateObservableGauge("bgevdb_execution_provider", Provider, "1", "Execution provider in use for inference (value 1)");
        // Process memory split, to tell a managed leak (GC heap grows) from native growth (ONNX Runtime arenas, FASTER
        // buffers, index chunks): resident = GC committed + native + code.
        _meter.CreateObservableGauge("bgevdb_process_resident_bytes", () => Environment.WorkingSet, "By", "Resident set size of the server process");
        _meter.CreateObservableGauge("bgevdb_gc_heap_bytes", () => GC.GetGCMemoryInfo().HeapSizeBytes, "By", "Managed heap size after the last GC");
        _meter.CreateObservableGauge("bgevdb_gc_committed_bytes", () => GC.GetGCMemoryInfo().TotalCommittedBytes, "By", "Memory committed by the GC");
    }

    public Counter<long> Requests { get; }

    public Histogram<double> RequestDuration { get; }

    public Histogram<double> StageDuration { get; }

    private IEnumerable<Collection> Collections() => _services.GetService<CollectionCatalog>()?.List() ?? [];

    private IEnumerable<Measurement<int>> Provider()
    {
        string provider;
        try
        {
            provider = _services.GetRequiredService<ModelHost>().Provider.Provider;
        }
        catch (InvalidOperationException)
        {
            yield break; // models not loaded yet
        }
        yield return new Measurement<int>(1, new KeyValuePair<string, object?>("provider", provider));
    }

    public void Dispose()
    {
        _collections.Dispose();
        _meter.Dispose();
    }
}
