using BgeVectorDb.Core.Index.Hnsw;
using BgeVectorDb.Core.Primitives;
using Xunit.Abstractions;

namespace BgeVectorDb.Core.Tests.Index;

public class HnswRecallTests(HnswFixture fixture, ITestOutputHelper output) : IClassFixture<HnswFixture>
{
    private static bool[] AllLive(int n) => Enumerable.Repeat(true, n).ToArray();

    [Fact]
    public void Recall_at_10_is_at_least_095_at_default_parameters()
    {
        Assert.Equal(HnswFixture.Count, fixture.Index.Count);
        Assert.Equal(16, fixture.Index.M);
        Assert.Equal(200, fixture.Index.EfConstruction);
        var recall = Recall.At(fixture.Index, fixture.Data, AllLive(HnswFixture.Count), fixture.Queries, 10, HnswFixture.DefaultEf);
        output.WriteLine($"recall@10 = {recall:F4}");
        Assert.True(recall >= 0.95, $"recall@10 {recall:F4} < 0.95");
    }

    [Theory]
    [InlineData(0.50, HnswIndex.FilterPlan.Graph)]
    [InlineData(0.10, HnswIndex.FilterPlan.Graph)]
    [InlineData(0.01, HnswIndex.FilterPlan.Exact)]
    public void Filtered_recall_at_10_is_at_least_095(double selectivity, HnswIndex.FilterPlan expectedPlan)
    {
        // Pseudo-random attribute per point, independent of the vectors.
        var attribute = new double[HnswFixture.Count];
        var rng = new Random(5);
        for (var i = 0; i < attribute.Length; i++) attribute[i] = rng.NextDouble();
        Func<int, bool> filter = id => attribute[id] < selectivity;
        var matching = attribute.Count(a => a < selectivity);
        Assert.InRange(matching, (int)(HnswFixture.Count * selectivity * 0.8), (int)(HnswFixture.Count * selectivity * 1.2));

        Assert.Equal(expectedPlan, fixture.Index.Plan(filter, HnswFixture.DefaultEf));
        var recall = Recall.At(fixture.Index, fixture.Data, AllLive(HnswFixture.Count), fixture.Queries, 10, HnswFixture.DefaultEf, filter);
        output.WriteLine($"selectivity {selectivity}: plan {expectedPlan}, filtered recall@10 = {recall:F4}");
        Assert.True(recall >= 0.95, $"filtered recall@10 {recall:F4} < 0.95 at selectivity {selectivity}");
    }

    [Fact]
    public void Export_then_import_into_a_new_index_gives_identical_results()
    {
        // A copy of the fixture graph with tombstones, so the original stays untouched for other tests.
        var source = new HnswIndex(HnswFixture.Dim, DistanceKind.Cosine);
        for (var i = 0; i < 3000; i++) source.Upsert(i, fixture.Data[i]);
        for (var i = 0; i < 3000; i += 7) source.Delete(i);

        var state = source.ExportState();
        Assert.Equal("hnsw", state.Kind);
        Assert.Equal(3000, state.NodeCapacity);
        var copy = new HnswIndex(HnswFixture.Dim, DistanceKind.Cosine);
        var exported = 0;
        // Import in reverse order: links may point to nodes not imported yet.
        for (var id = state.NodeCapacity - 1; id >= 0; id--)
        {
            if (!source.TryExportNode(id, out var node)) continue;
            exported++;
            Assert.Equal(id % 7 == 0, node.Deleted);
            copy.ImportNode(node);
        }
        copy.CompleteImport(state);

        Assert.Equal(3000, exported);
        Assert.Equal(source.Count, copy.Count);
        Assert.Equal(source.Entry, copy.Entry);
        Assert.False(source.TryExportNode(3000, out _));
        foreach (var q in fixture.Queries.Take(50))
        {
            Assert.Equal(source.Search(q, 10, ef: 40), copy.Search(q, 10, ef: 40));
        }
        for (var id = 0; id < 3000; id++)
        {
            Assert.True(source.TryExportNode(id, out var a));
            Assert.True(copy.TryExportNode(id, out var b));
            Assert.Equal(a.Links.Select(l => string.Join(',', l)), b.Links.Select(l => string.Join(',', l)));
            Assert.Equal(a.Vector, b.Vector);
        }

        // The imported graph keeps accepting writes.
        copy.Upsert(3000, fixture.Data[3000]);
        Assert.Equal(3000, copy.Search(fixture.Data[3000], 1)[0].Id);
    }
}
