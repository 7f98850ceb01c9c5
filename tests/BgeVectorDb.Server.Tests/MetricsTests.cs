using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;

namespace BgeVectorDb.Server.Tests;

/// <summary>The Prometheus endpoint of a real server with the tiny synthetic models: every named series
/// is listed, and the values move as traffic says they should. Recall telemetry samples every search here.</summary>
public sealed class MetricsTests() : TempServer("bgevdb-metrics", tinyModels: true)
{
    private const int VecDim = 16;
    private const int VecDocs = 300;
    private const int VecQueries = 20;
    private const int K = 10;

    /// <summary>Every series but bgevdb_recall_dropped_total (a full recall queue; PrometheusExportTests checks its name).</summary>
    private static readonly string[] Series =
    [
        "bgevdb_requests_total", "bgevdb_request_duration_seconds", "bgevdb_search_stage_duration_seconds",
        "bgevdb_inference_batch_rows", "bgevdb_inference_queue_rows", "bgevdb_inference_queue_tokens", "bgevdb_inference_rejected_total",
        "bgevdb_collection_documents", "bgevdb_collection_vectors", "bgevdb_index_memory_bytes",
        "bgevdb_wal_bytes", "bgevdb_collection_disk_bytes", "bgevdb_wal_tail_position", "bgevdb_wal_uncheckpointed_bytes",
        "bgevdb_checkpoints_total", "bgevdb_checkpoint_duration_seconds", "bgevdb_checkpoint_bytes_total",
        "bgevdb_checkpoint_wal_position", "bgevdb_checkpoint_timestamp_seconds",
        "bgevdb_execution_provider",
        "bgevdb_search_recall", "bgevdb_recall_samples_total", "bgevdb_recall_at_k",
        "bgevdb_process_resident_bytes", "bgevdb_gc_heap_bytes", "bgevdb_gc_committed_bytes",
    ];

    private static readonly string[] AtStart =
    [
        "bgevdb_inference_queue_rows", "bgevdb_inference_queue_tokens", "bgevdb_inference_rejected_total", "bgevdb_execution_provider",
        "bgevdb_process_resident_bytes", "bgevdb_gc_heap_bytes", "bgevdb_gc_committed_bytes",
    ];

    protected override IReadOnlyDictionary<string, string> Settings =>
        ServerSettings.TinyModels(Dir, TestData.RerankerModelId, ("Metrics:RecallSampleRate", "1"));

    private static (string, string) L(string key, string value) => (key, value);

    [Fact]
    public async Task Endpoint_lists_every_series_and_values_move_after_traffic()
    {
        // Before any call: the series read at scrape time (a series appears with its first value; the collection ones
        // with the first collection).
        var before = await Scrape.FromAsync(Server.MetricsAddress);
        foreach (var name in AtStart) Assert.True(before.Types.ContainsKey(name), $"series {name} missing from:\n{before.Text}");
        Assert.Equal("gauge", before.Types["bgevdb_inference_queue_rows"]);
        Assert.Equal("counter", before.Types["bgevdb_inference_rejected_total"]);
        Assert.Equal(1, before.Sum("bgevdb_execution_provider", L("provider", "cpu")));
        Assert.True(before.Has("bgevdb_inference_queue_rows", L("model", TestData.EmbeddingModelId), L("role", "embed")));
        Assert.True(before.Has("bgevdb_inference_queue_rows", L("model", TestData.RerankerModelId), L("role", "rerank")));
        Assert.Equal(0, before.Sum("bgevdb_requests_total", L("rpc", "bgevectordb.v1.Search/Search")));

        // Text collection: 40 documents over a client stream (2 batches), 3 reranked text searches.
        var collections = new Collections.CollectionsClient(Server.Channel);
        var documents = new Documents.DocumentsClient(Server.Channel);
        var search = new Search.SearchClient(Server.Channel);
        await collections.CreateCollectionAsync(new CreateCollectionRequest { Name = "docs" });
        using (var stream = documents.UpsertStream())
        {
            for (var b = 0; b < 2; b++)
            {
                var batch = new UpsertRequest { Collection = "docs", BatchId = (ulong)b + 1 };
                for (var i = 0; i < 20; i++) batch.Documents.Add(new Document { Id = $"d{b * 20 + i}", Text = $"document {b * 20 + i} about cells, proteins and trial number {i}" });
                await stream.RequestStream.WriteAsync(batch);
                Assert.True(await stream.ResponseStream.MoveNext());
                Assert.Equal(20u, stream.ResponseStream.Current.Upserted);
            }
            await stream.RequestStream.CompleteAsync();
            Assert.False(await stream.ResponseStream.MoveNext());
        }
        for (var q = 0; q < 3; q++)
        {
            var r = await search.SearchAsync(new SearchRequest { Collection = "docs", Query = $"protein trial {q}", Options = new SearchOptions { K = 5 } });
            Assert.True(r.Reranked);
        }
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await search.SearchAsync(new SearchRequest { Collection = "docs", Query = "x", Options = new SearchOptions { K = 0 } }), "options.k");

        // Vectors-only collection with a filter on half the queries; recall is recomputed here independently.
        await collections.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = "vec",
            Config = new CollectionConfig { EmbeddingModel = "none", RerankerModel = "none", Dimension = VecDim },
        });
        var rng = new Random(5);
        var vectors = new float[VecDocs][];
        var upsert = new UpsertRequest { Collection = "vec" };
        for (var i = 0; i < VecDocs; i++)
        {
            vectors[i] = Enumerable.Range(0, VecDim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var d = new Document { Id = $"v{i}" };
            d.Vector.AddRange(vectors[i]);
            d.Metadata["even"] = new Value { BoolValue = i % 2 == 0 };
            upsert.Documents.Add(d);
        }
        await documents.UpsertAsync(upsert);
        var expectedRecalls = new List<double>();
        for (var q = 0; q < VecQueries; q++)
        {
            var query = Enumerable.Range(0, VecDim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var filtered = q % 2 == 1;
            var request = new SearchByVectorRequest { Collection = "vec", Options = new SearchOptions { K = K } };
            request.Vector.AddRange(query);
            if (filtered) request.Options.Filter = new Filter { Field = new FieldCondition { Key = "even", Equals_ = new Value { BoolValue = true } } };
            var returned = (await search.SearchByVectorAsync(request)).Hits.Select(h => h.Id).ToHashSet();
            var exact = Enumerable.Range(0, VecDocs).Where(i => !filtered || i % 2 == 0)
                .OrderByDescending(i => Cosine(query, vectors[i])).Take(K).Select(i => $"v{i}").ToList();
            expectedRecalls.Add(exact.Count(returned.Contains) / (double)exact.Count);
        }

        // The reruns happen in the background: wait for every sample.
        Scrape after;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            after = await Scrape.FromAsync(Server.MetricsAddress);
            if (after.Sum("bgevdb_recall_samples_total", L("collection", "vec")) + after.Sum("bgevdb_recall_dropped_total", L("collection", "vec")) >= VecQueries
                && after.Sum("bgevdb_recall_samples_total", L("collection", "docs")) >= 3) break;
            await Task.Delay(100);
        }
        while (waited.Elapsed < TimeSpan.FromSeconds(20));

        const string SearchRpc = "bgevectordb.v1.Search/Search";
        Assert.Equal(3, after.Sum("bgevdb_requests_total", L("rpc", SearchRpc), L("code", "OK")));
        Assert.Equal(1, after.Sum("bgevdb_requests_total", L("rpc", SearchRpc), L("code", "INVALID_ARGUMENT")));
        Assert.Equal(1, after.Sum("bgevdb_requests_total", L("rpc", "bgevectordb.v1.Documents/UpsertStream"), L("code", "OK")));
        Assert.Equal(VecQueries, after.Sum("bgevdb_requests_total", L("rpc", "bgevectordb.v1.Search/SearchByVector"), L("code", "OK")));
        Assert.Equal(4, after.Sum("bgevdb_request_duration_seconds_count", L("rpc", SearchRpc)));
        Assert.True(after.Sum("bgevdb_request_duration_seconds_sum", L("rpc", SearchRpc)) > 0);
        Assert.Equal(4, after.Sum("bgevdb_request_duration_seconds_bucket", L("rpc", SearchRpc), L("le", "+Inf")));
        foreach (var stage in new[] { "embed", "ann", "fetch", "rerank" })
        {
            Assert.Equal(3, after.Sum("bgevdb_search_stage_duration_seconds_count", L("stage", stage), L("collection", "docs")));
        }
        Assert.Equal(VecQueries, after.Sum("bgevdb_search_stage_duration_seconds_count", L("stage", "ann"), L("collection", "vec")));
        Assert.False(after.Has("bgevdb_search_stage_duration_seconds_count", L("stage", "embed"), L("collection", "vec")));

        // Inference: 40 document texts + 3 queries embedded, 3 x 40 pairs reranked.
        Assert.Equal(43, after.Sum("bgevdb_inference_batch_rows_sum", L("model", TestData.EmbeddingModelId), L("role", "embed")));
        Assert.Equal(120, after.Sum("bgevdb_inference_batch_rows_sum", L("model", TestData.RerankerModelId), L("role", "rerank")));
        Assert.True(after.Sum("bgevdb_inference_batch_rows_count", L("role", "embed")) >= 1);
        Assert.Equal(0, after.Sum("bgevdb_inference_queue_rows"));
        Assert.Equal(0, after.Sum("bgevdb_inference_queue_tokens"));
        Assert.Equal(0, after.Sum("bgevdb_inference_rejected_total", L("role", "embed")));

        Assert.Equal(40, after.Sum("bgevdb_collection_documents", L("collection", "docs")));
        Assert.Equal(40, after.Sum("bgevdb_collection_vectors", L("collection", "docs")));
        Assert.Equal(VecDocs, after.Sum("bgevdb_collection_documents", L("collection", "vec")));
        Assert.Equal(VecDocs, after.Sum("bgevdb_collection_vectors", L("collection", "vec")));
        Assert.True(after.Sum("bgevdb_index_memory_bytes", L("collection", "vec")) >= VecDocs * VecDim * 4);
        var wal = after.Sum("bgevdb_wal_bytes", L("collection", "docs"));
        Assert.True(wal > 40 * 32 * 4, $"WAL bytes {wal}");
        var disk = after.Sum("bgevdb_collection_disk_bytes", L("collection", "docs"));
        Assert.True(disk > wal, $"disk bytes {disk} count the store and the WAL ({wal})");
        var tail = after.Sum("bgevdb_wal_tail_position", L("collection", "docs"));
        Assert.True(tail > 0);
        Assert.Equal(tail - after.Sum("bgevdb_checkpoint_wal_position", L("collection", "docs")),
            after.Sum("bgevdb_wal_uncheckpointed_bytes", L("collection", "docs")));

        // Recall: every sampled search measured, each value a recall in [0, 1], the mean equal to ours.
        Assert.Equal(0, after.Sum("bgevdb_recall_dropped_total"));
        Assert.Equal(VecQueries, after.Sum("bgevdb_recall_samples_total", L("collection", "vec")));
        Assert.Equal(3, after.Sum("bgevdb_recall_samples_total", L("collection", "docs")));
        Assert.Equal(VecQueries, after.Sum("bgevdb_search_recall_count", L("collection", "vec")));
        Assert.Equal(VecQueries, after.Sum("bgevdb_search_recall_bucket", L("collection", "vec"), L("le", "1")));
        var mean = after.Sum("bgevdb_search_recall_sum", L("collection", "vec")) / VecQueries;
        Assert.InRange(mean, 0, 1);
        Assert.Equal(expectedRecalls.Average(), mean, 9);
        var gauge = after.Sum("bgevdb_recall_at_k", L("collection", "vec"));
        Assert.InRange(gauge, 0, 1);
        Assert.Equal(expectedRecalls.Average(), gauge, 9);

        // A checkpoint moves the checkpoint series; nothing is left to replay after it.
        Assert.Equal(0, after.Sum("bgevdb_checkpoints_total", L("collection", "docs")));
        await new Admin.AdminClient(Server.Channel).CheckpointAsync(new CheckpointRequest { Collection = "docs" });
        var checkpointed = await Scrape.FromAsync(Server.MetricsAddress);
        Assert.Equal(1, checkpointed.Sum("bgevdb_checkpoints_total", L("collection", "docs")));
        Assert.Equal(1, checkpointed.Sum("bgevdb_checkpoint_duration_seconds_count", L("collection", "docs")));
        Assert.True(checkpointed.Sum("bgevdb_checkpoint_bytes_total", L("collection", "docs")) > 0);
        Assert.Equal(checkpointed.Sum("bgevdb_wal_tail_position", L("collection", "docs")), checkpointed.Sum("bgevdb_checkpoint_wal_position", L("collection", "docs")));
        Assert.Equal(0, checkpointed.Sum("bgevdb_wal_uncheckpointed_bytes", L("collection", "docs")));
        foreach (var name in Series) Assert.True(checkpointed.Types.ContainsKey(name), $"series {name} missing from:\n{checkpointed.Text}");
        Assert.Equal("counter", checkpointed.Types["bgevdb_requests_total"]);
        Assert.Equal("histogram", checkpointed.Types["bgevdb_request_duration_seconds"]);
        Assert.Equal("gauge", checkpointed.Types["bgevdb_collection_documents"]);
        Assert.Equal("counter", checkpointed.Types["bgevdb_checkpoints_total"]);
        Assert.Equal("histogram", checkpointed.Types["bgevdb_search_recall"]);
        Assert.Equal("gauge", checkpointed.Types["bgevdb_recall_at_k"]);
        Assert.True(checkpointed.Sum("bgevdb_checkpoint_timestamp_seconds", L("collection", "docs")) > DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds());

        // Gauges follow the catalog: a deleted collection's series disappear.
        await collections.DeleteCollectionAsync(new DeleteCollectionRequest { Name = "vec" });
        var deleted = await Scrape.FromAsync(Server.MetricsAddress);
        Assert.False(deleted.Has("bgevdb_collection_documents", L("collection", "vec")));
        Assert.True(deleted.Has("bgevdb_collection_documents", L("collection", "docs")));

        // After a restart the checkpoint position is the recovered one: nothing is waiting for replay.
        Assert.Equal(0, await Server.StopAsync(TimeSpan.FromSeconds(60)));
        await RestartAsync();
        var restarted = await Scrape.FromAsync(Server.MetricsAddress);
        Assert.Equal(40, restarted.Sum("bgevdb_collection_documents", L("collection", "docs")));
        Assert.True(restarted.Sum("bgevdb_checkpoint_wal_position", L("collection", "docs")) > 0);
        Assert.Equal(restarted.Sum("bgevdb_wal_tail_position", L("collection", "docs")), restarted.Sum("bgevdb_checkpoint_wal_position", L("collection", "docs")));
        Assert.Equal(0, restarted.Sum("bgevdb_wal_uncheckpointed_bytes", L("collection", "docs")));
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
