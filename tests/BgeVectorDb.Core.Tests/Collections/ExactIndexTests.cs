using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Tests.Collections;

public class ExactIndexTests
{
    private static float[][] RandomVectors(int n, int dim, int seed, bool normalise)
    {
        var rng = new Random(seed);
        var result = new float[n][];
        for (var i = 0; i < n; i++)
        {
            var v = new float[dim];
            for (var j = 0; j < dim; j++) v[j] = (float)(rng.NextDouble() * 2 - 1);
            if (normalise) VectorMath.NormalizeInPlace(v);
            result[i] = v;
        }
        return result;
    }

    private static double ScalarScore(DistanceKind d, float[] a, float[] b)
    {
        double s = 0;
        for (var i = 0; i < a.Length; i++) s += d == DistanceKind.L2 ? -(a[i] - b[i]) * (double)(a[i] - b[i]) : a[i] * (double)b[i];
        return s;
    }

    [Theory]
    [InlineData(DistanceKind.Cosine)]
    [InlineData(DistanceKind.Dot)]
    [InlineData(DistanceKind.L2)]
    public void Top_k_equals_sorting_all_scores(DistanceKind distance)
    {
        var data = RandomVectors(500, 33, 7, distance == DistanceKind.Cosine);
        var index = new ExactIndex(33, distance, initialCapacity: 16);
        for (var i = 0; i < data.Length; i++) index.Upsert(i, data[i]);
        var query = RandomVectors(1, 33, 99, distance == DistanceKind.Cosine)[0];

        var hits = index.Search(query, 10);
        var expected = Enumerable.Range(0, data.Length).OrderByDescending(i => ScalarScore(distance, query, data[i])).Take(10).ToArray();
        Assert.Equal(expected, hits.Select(h => h.Id));
        for (var i = 0; i < hits.Length; i++) Assert.Equal(ScalarScore(distance, query, data[hits[i].Id]), hits[i].Score, 1e-4);
    }

    [Fact]
    public void Deleted_and_filtered_points_never_return()
    {
        var data = RandomVectors(100, 8, 3, true);
        var index = new ExactIndex(8, DistanceKind.Cosine);
        for (var i = 0; i < data.Length; i++) index.Upsert(i, data[i]);
        for (var i = 0; i < 100; i += 2) index.Delete(i);
        Assert.Equal(50, index.Count);
        var hits = index.Search(data[0], 100);
        Assert.Equal(50, hits.Length);
        Assert.All(hits, h => Assert.Equal(1, h.Id % 2));
        var filtered = index.Search(data[1], 100, id => id % 3 == 0);
        Assert.All(filtered, h => Assert.True(h.Id % 3 == 0 && h.Id % 2 == 1));
        Assert.False(index.TryGetVector(0, new float[8]));
        Assert.True(index.TryGetVector(1, new float[8]));
    }

    [Fact]
    public void Upsert_replaces_the_vector()
    {
        var index = new ExactIndex(2, DistanceKind.Dot);
        index.Upsert(0, [1, 0]);
        index.Upsert(1, [0, 1]);
        index.Upsert(0, [0, 2]);
        Assert.Equal(2, index.Count);
        var hits = index.Search([0, 1], 2);
        Assert.Equal(0, hits[0].Id);
        Assert.Equal(2f, hits[0].Score);
    }

    [Fact]
    public void Export_then_import_gives_an_index_with_the_same_results()
    {
        var data = RandomVectors(200, 16, 5, true);
        var index = new ExactIndex(16, DistanceKind.Cosine);
        for (var i = 0; i < data.Length; i++) index.Upsert(i, data[i]);
        for (var i = 150; i < 200; i++) index.Delete(i);
        index.Delete(7);

        var state = index.ExportState();
        Assert.Equal(150, state.NodeCapacity);
        var copy = new ExactIndex(16, DistanceKind.Cosine);
        var exported = 0;
        for (var id = 0; id < state.NodeCapacity; id++)
        {
            if (!index.TryExportNode(id, out var node)) continue;
            Assert.Equal(id, node.Id);
            Assert.Equal(0, node.Level);
            copy.ImportNode(node);
            exported++;
        }
        copy.CompleteImport(state);
        Assert.Equal(149, exported);
        Assert.Equal(index.Count, copy.Count);
        Assert.False(copy.TryGetVector(7, new float[16]));
        Assert.Equal(index.Search(data[3], 20), copy.Search(data[3], 20));
        Assert.Throws<InvalidDataException>(() => copy.CompleteImport(state with { Kind = "hnsw" }));
    }
}
