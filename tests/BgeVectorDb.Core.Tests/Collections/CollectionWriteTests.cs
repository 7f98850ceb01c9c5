using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Reranking;
using BgeVectorDb.Core.Search;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Tests.Collections;

/// <summary>The collection's write path: a batch is linked into the graph in parallel, outside the
/// collection lock; what it leaves behind must equal a sequential apply.</summary>
public sealed class CollectionWriteTests : IAsyncLifetime
{
    private const int Dim = 32;
    private CollectionCatalog _catalog = null!;


    public Task InitializeAsync()
    {
        _catalog = CollectionCatalog.Open(null, FixedModelProvider.None, new EngineLimits(), NullLogger.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _catalog.DisposeAsync();

    private Collection NewCollection() =>
        _catalog.Create(new CollectionSpec("c" + Guid.NewGuid().ToString("N")[..8], EmbeddingModel: "none", Dimension: Dim));

    private static float[] RandomUnit(Random rng)
    {
        var v = Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        VectorMath.NormalizeInPlace(v);
        return v;
    }

    private static SearchOptions Options(int k) => new(k, Candidates: k);

    [Fact]
    public async Task A_replace_in_a_later_batch_keeps_the_new_text_and_vector()
    {
        var c = NewCollection();
        var rng = new Random(11);
        var first = RandomUnit(rng);
        var second = RandomUnit(rng);
        var docs = new List<Document> { new("dup", "first", Document.NoMetadata, first) };
        for (var i = 0; i < 50; i++) docs.Add(new Document($"x{i}", "", Document.NoMetadata, RandomUnit(rng)));
        Assert.Equal(0, (await c.UpsertAsync(docs)).Replaced);

        var result = await c.UpsertAsync([new Document("y", "", Document.NoMetadata, RandomUnit(rng)), new Document("dup", "second", Document.NoMetadata, second)]);

        Assert.Equal(1, result.Replaced);
        Assert.Equal(52, c.Count);
        var (found, _) = c.Get(["dup"], new ReturnFields(Text: true, Metadata: false, Vector: true));
        Assert.Equal("second", found[0].Text);
        Assert.All(second.Zip(found[0].Vector), p => Assert.Equal(p.First, p.Second, 1e-6f)); // stored normalised again
        var hits = c.SearchByVector(second, Options(1));
        Assert.Equal("dup", hits.Hits[0].Id);
        Assert.Equal(1f, hits.Hits[0].AnnScore, 1e-5f);
        // Searching by the old vector finds the document with its new vector's score.
        var old = c.SearchByVector(first, Options(52)).Hits.Single(h => h.Id == "dup");
        Assert.Equal(VectorMath.Score(DistanceKind.Cosine, first, second), old.AnnScore, 1e-5f);
    }

    [Fact]
    public async Task A_large_batch_linked_in_parallel_finds_every_document_by_its_own_vector()
    {
        var c = NewCollection();
        var rng = new Random(12);
        var vectors = Enumerable.Range(0, 3000).Select(_ => RandomUnit(rng)).ToArray();
        for (var start = 0; start < vectors.Length; start += 1000)
        {
            await c.UpsertAsync(Enumerable.Range(start, 1000).Select(i => new Document($"d{i}", "", Document.NoMetadata, vectors[i])).ToList());
        }

        Assert.Equal(3000, c.Count);
        var missed = 0;
        for (var i = 0; i < vectors.Length; i += 7)
        {
            var hits = c.SearchByVector(vectors[i], Options(10));
            Assert.Equal(10, hits.Hits.Count);
            Assert.Equal(10, hits.Hits.Select(h => h.Id).Distinct().Count());
            if (hits.Hits[0].Id != $"d{i}") missed++;
        }
        // Self-recall of a navigable graph at default parameters: a point is its own nearest neighbour.
        Assert.True(missed <= 2, $"{missed} of {vectors.Length / 7 + 1} documents not found by their own vector");
    }
}
