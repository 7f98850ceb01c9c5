using System.Diagnostics.Metrics;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Reranking;
using BgeVectorDb.Core.Search;
using BgeVectorDb.Core.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Tests.Telemetry;

/// <summary>Recall@k from an exact rerun: the figure for a known partial answer, filters, the sampler
/// end to end through a collection's searches, and the checkpoint hook.</summary>
public sealed class RecallTelemetryTests : IAsyncLifetime
{
    private const int Dim = 8;
    private const int Docs = 200;
    private CollectionCatalog _catalog = null!;
    private Collection _collection = null!;
    private readonly float[][] _vectors = new float[Docs][];


    public async Task InitializeAsync()
    {
        _catalog = CollectionCatalog.Open(null, FixedModelProvider.None, new EngineLimits(), NullLogger.Instance);
        _collection = _catalog.Create(new CollectionSpec("c" + Guid.NewGuid().ToString("N")[..8], EmbeddingModel: "none", Dimension: Dim));
        var rng = new Random(3);
        var docs = new List<Document>();
        for (var i = 0; i < Docs; i++)
        {
            _vectors[i] = Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            VectorMath.NormalizeInPlace(_vectors[i]);
            docs.Add(new Document($"d{i}", "", new Dictionary<string, MetadataValue> { ["even"] = MetadataValue.Of(i % 2 == 0) }, _vectors[i]));
        }
        await _collection.UpsertAsync(docs);
    }

    public async Task DisposeAsync() => await _catalog.DisposeAsync();

    /// <summary>Internal ids follow insertion order on a fresh collection, so exact ids are computable here.</summary>
    private int[] ExactTop(float[] q, int k, Func<int, bool>? keep = null) =>
        Enumerable.Range(0, Docs).Where(i => keep is null || keep(i))
            .OrderByDescending(i => VectorMath.Score(DistanceKind.Cosine, q, _vectors[i])).ThenBy(i => i).Take(k).ToArray();

    [Fact]
    public void Recall_is_the_share_of_the_exact_top_k_returned()
    {
        var q = _vectors[17];
        var exact = ExactTop(q, 10);
        var returned = exact.Take(7).Concat(ExactTop(q, 50).Skip(40).Take(3)).ToArray(); // 3 wrong of 10
        Assert.Equal(0.7, _collection.MeasureRecall(new RecallProbe(_collection, q, 10, null, null, returned)));
        Assert.Equal(1.0, _collection.MeasureRecall(new RecallProbe(_collection, q, 10, null, null, exact.Reverse().ToArray())));
        Assert.Equal(0.0, _collection.MeasureRecall(new RecallProbe(_collection, q, 10, null, null, [])));

        // A filter and an excluded id are applied to the rerun the same way as to the search.
        var filter = new EqualsFilter("even", MetadataValue.Of(true));
        var evenExact = ExactTop(q, 5, i => i % 2 == 0 && i != 0);
        Assert.Equal(0.8, _collection.MeasureRecall(new RecallProbe(_collection, q, 5, filter, 0, [.. evenExact.Take(4), 1])));
        Assert.Equal(1.0, _collection.MeasureRecall(new RecallProbe(_collection, q, 5, filter, 0, evenExact)));

        // Nothing matches: no sample.
        Assert.Null(_collection.MeasureRecall(new RecallProbe(_collection, q, 5, new EqualsFilter("even", MetadataValue.Of("x")), null, [])));
        // The recent mean covers the five measured values.
        Assert.Equal((0.7 + 1 + 0 + 0.8 + 1) / 5, _collection.RecentRecall!.Value, 12);
    }

    [Fact]
    public async Task Sampled_searches_are_rerun_in_the_background_and_counted()
    {
        var name = _collection.Name;
        long samples = 0;
        var values = new List<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == EngineMetrics.MeterName && i.Name is "bgevdb_recall_samples" or "bgevdb_search_recall") l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((_, v, tags, _) =>
        {
            if (HasCollection(tags, name)) Interlocked.Add(ref samples, v);
        });
        listener.SetMeasurementEventCallback<double>((_, v, tags, _) =>
        {
            if (HasCollection(tags, name)) lock (values) values.Add(v);
        });
        listener.Start();

        await using var sampler = new RecallSampler(1.0, 16);
        _catalog.EnableRecallSampling(sampler);
        var expected = new List<double>();
        for (var i = 0; i < 12; i++)
        {
            var q = _vectors[i * 7];
            var hits = _collection.SearchByVector(q, new SearchOptions(10)).Hits.Select(h => int.Parse(h.Id[1..], System.Globalization.CultureInfo.InvariantCulture));
            expected.Add(ExactTop(q, 10).Intersect(hits).Count() / 10.0);
        }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Interlocked.Read(ref samples) < 12 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(12, Interlocked.Read(ref samples));
        lock (values)
        {
            Assert.Equal(12, values.Count);
            Assert.All(values, v => Assert.InRange(v, 0, 1));
            Assert.Equal(expected.Average(), values.Average(), 12);
        }
        Assert.Equal(expected.Average(), _collection.RecentRecall!.Value, 12);
    }

    [Fact]
    public void Sampler_rejects_rates_outside_0_to_1_and_rate_0_samples_nothing()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RecallSampler(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RecallSampler(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RecallSampler(double.NaN));
        var off = new RecallSampler(0);
        Assert.Equal(0, Enumerable.Range(0, 1000).Count(_ => off.ShouldSample()));
        var half = new RecallSampler(0.5);
        var sampled = Enumerable.Range(0, 4000).Count(_ => half.ShouldSample());
        Assert.InRange(sampled, 1600, 2400);
    }

    [Fact]
    public void Checkpoint_hook_updates_the_figures()
    {
        Assert.Equal(0, _collection.LastCheckpoint.Count);
        _collection.RecordCheckpoint(TimeSpan.FromMilliseconds(250), walPosition: 4096, bytes: 123456);
        _collection.RecordCheckpoint(TimeSpan.FromMilliseconds(100), walPosition: 8192, bytes: 1000);
        var last = _collection.LastCheckpoint;
        Assert.Equal(2, last.Count);
        Assert.Equal(8192, last.WalPosition);
        Assert.Equal(1000, last.Bytes);
        Assert.Equal(0.1, last.DurationSeconds, 9);
        Assert.InRange(last.UnixTimeMs, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
    }

    private static bool HasCollection(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var t in tags)
        {
            if (t.Key == "collection" && (string?)t.Value == name) return true;
        }
        return false;
    }
}
