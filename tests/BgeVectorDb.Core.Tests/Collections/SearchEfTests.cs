using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Search;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Tests.Collections;

/// <summary>
/// The beam a search uses when the query sets no ef: max(ef_search, 2 x results), capped at max_ef, never below
/// the results; a query's own ef is kept (raised to the results). Observed through <see cref="SearchResult.Ef"/>,
/// and the default search returns exactly what an explicit ef of that width returns.
/// </summary>
public sealed class SearchEfTests
{
    private const int Dim = 16;

    private static async Task<(CollectionCatalog Catalog, Collection Collection, float[][] Queries)> OpenAsync(EngineLimits limits, int efSearch = 0)
    {
        var catalog = CollectionCatalog.Open(null, FixedModelProvider.None, limits, NullLogger.Instance);
        var collection = catalog.Create(new CollectionSpec("ef", EmbeddingModel: "none", Dimension: Dim, Hnsw: new HnswParameters(EfSearch: efSearch)));
        var rng = new Random(5);
        float[] Unit()
        {
            var v = Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            VectorMath.NormalizeInPlace(v);
            return v;
        }
        await collection.UpsertAsync(Enumerable.Range(0, 600).Select(i => new Document($"d{i}", "", Document.NoMetadata, Unit())).ToArray());
        return (catalog, collection, Enumerable.Range(0, 20).Select(_ => Unit()).ToArray());
    }

    [Theory]
    [InlineData(10, 0, 0, 100)]    // 2 x 10 < ef_search 100: the collection's ef_search
    [InlineData(100, 0, 0, 200)]   // top-100 (the reranker's default candidates): 2 x 100
    [InlineData(100, 0, 300, 300)] // a wider ef_search wins
    [InlineData(100, 150, 0, 150)] // the query's ef is kept ...
    [InlineData(100, 50, 0, 100)]  // ... but never below the results
    public async Task Search_by_vector_uses_the_documented_ef(int k, int queryEf, int efSearch, int expected)
    {
        var (catalog, collection, queries) = await OpenAsync(new EngineLimits(), efSearch);
        await using var _ = catalog;
        var result = collection.SearchByVector(queries[0], new SearchOptions(k, Ef: queryEf));
        Assert.Equal(expected, result.Ef);
        Assert.Equal(k, result.Hits.Count);
    }

    [Fact]
    public async Task The_default_ef_is_capped_by_max_ef_but_never_below_the_results()
    {
        var (catalog, collection, queries) = await OpenAsync(new EngineLimits { MaxEf = 150 });
        await using var _ = catalog;
        Assert.Equal(150, collection.SearchByVector(queries[0], new SearchOptions(100)).Ef);
        Assert.Equal(400, collection.SearchByVector(queries[0], new SearchOptions(400)).Ef);
    }

    [Fact]
    public async Task The_default_search_returns_what_an_explicit_ef_of_twice_k_returns()
    {
        var (catalog, collection, queries) = await OpenAsync(new EngineLimits());
        await using var _ = catalog;
        foreach (var q in queries)
        {
            var byDefault = collection.SearchByVector(q, new SearchOptions(100));
            var explicitEf = collection.SearchByVector(q, new SearchOptions(100, Ef: 200));
            Assert.Equal(explicitEf.Hits.Select(h => h.Id), byDefault.Hits.Select(h => h.Id));
        }
    }
}
