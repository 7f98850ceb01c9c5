using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Index.Hnsw;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Synthetic;
using Xunit.Abstractions;

namespace BgeVectorDb.Core.Tests.Index;

public class HnswChurnTests(ITestOutputHelper output)
{
    [Fact]
    public void Recall_stays_at_least_095_after_deleting_30_percent_and_reinserting_10_percent()
    {
        var mixture = new GaussianMixture(HnswFixture.Dim, Seed: 23);
        var data = mixture.Generate(HnswFixture.Count + 1000);
        var queries = mixture.Generate(200, stream: 1);
        var all = new float[HnswFixture.Count + 1000][];
        Array.Copy(data, all, all.Length);
        var index = HnswFixture.Build(data[..HnswFixture.Count]);
        var live = new bool[all.Length];
        for (var i = 0; i < HnswFixture.Count; i++) live[i] = true;

        // Delete 30% at random (in parallel: deletes repair neighbour lists concurrently).
        var rng = new Random(3);
        var order = Enumerable.Range(0, HnswFixture.Count).ToArray();
        rng.Shuffle(order);
        var deleted = order[..(HnswFixture.Count * 3 / 10)];
        Parallel.ForEach(deleted, id => index.Delete(id));
        foreach (var id in deleted) live[id] = false;
        Assert.Equal(HnswFixture.Count - deleted.Length, index.Count);
        var afterDelete = Recall.At(index, all, live, queries, 10, HnswFixture.DefaultEf);
        output.WriteLine($"after deleting 30%: recall@10 = {afterDelete:F4}");
        Assert.True(afterDelete >= 0.95, $"recall@10 after deletes {afterDelete:F4} < 0.95");

        // Re-insert 10%: 1000 fresh ids and 1000 deleted ids given new vectors.
        var reused = deleted[..1000];
        var fresh = mixture.Generate(1000, stream: 2);
        Parallel.For(0, 2000, i =>
        {
            if (i < 1000) index.Upsert(HnswFixture.Count + i, data[HnswFixture.Count + i]);
            else index.Upsert(reused[i - 1000], fresh[i - 1000]);
        });
        for (var i = 0; i < 1000; i++)
        {
            live[HnswFixture.Count + i] = true;
            live[reused[i]] = true;
            all[reused[i]] = fresh[i];
        }
        Assert.Equal(live.Count(x => x), index.Count);
        var afterReinsert = Recall.At(index, all, live, queries, 10, HnswFixture.DefaultEf);
        output.WriteLine($"after re-inserting 10%: recall@10 = {afterReinsert:F4}");
        Assert.True(afterReinsert >= 0.95, $"recall@10 after re-inserts {afterReinsert:F4} < 0.95");

        // Every re-inserted point is found by its own vector.
        foreach (var id in reused.Take(100)) Assert.Equal(id, index.Search(all[id], 1, ef: 100)[0].Id);
    }

    [Fact]
    public void Upsert_of_an_existing_id_replaces_its_vector()
    {
        var mixture = new GaussianMixture(32, Clusters: 8, Seed: 4);
        var data = mixture.Generate(600);
        var index = new HnswIndex(32, DistanceKind.Cosine, m: 8, efConstruction: 64);
        for (var i = 0; i < 500; i++) index.Upsert(i, data[i]);

        index.Upsert(7, data[550]);

        Assert.Equal(500, index.Count);
        var byNew = index.Search(data[550], 3, ef: 50);
        Assert.Equal(7, byNew[0].Id);
        Assert.Equal(1f, byNew[0].Score, 4);
        var stored = new float[32];
        Assert.True(index.TryGetVector(7, stored));
        Assert.Equal(data[550], stored);
        var byOld = index.Search(data[7], 10, ef: 50);
        Assert.DoesNotContain(byOld, h => h.Id == 7 && h.Score > 0.9999f);
    }

    [Theory]
    [InlineData(DistanceKind.Cosine)]
    [InlineData(DistanceKind.Dot)]
    [InlineData(DistanceKind.L2)]
    public void Small_index_matches_exact_search_for_every_distance(DistanceKind distance)
    {
        var rng = new Random(9);
        var data = new float[300][];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = new float[17];
            for (var j = 0; j < 17; j++) data[i][j] = (float)(rng.NextDouble() * 2 - 1);
            if (distance == DistanceKind.Cosine) VectorMath.NormalizeInPlace(data[i]);
        }
        var index = new HnswIndex(17, distance, m: 8, efConstruction: 100);
        var exact = new ExactIndex(17, distance);
        for (var i = 0; i < data.Length; i++)
        {
            index.Upsert(i, data[i]);
            exact.Upsert(i, data[i]);
        }
        index.Delete(5);
        exact.Delete(5);
        var q = data[10];
        var got = index.Search(q, 5, ef: 300);
        var want = exact.Search(q, 5);
        Assert.Equal(want.Select(h => h.Id), got.Select(h => h.Id));
        for (var i = 0; i < 5; i++) Assert.Equal(want[i].Score, got[i].Score, 3);
        Assert.True(got.Zip(got.Skip(1)).All(p => p.First.Score >= p.Second.Score));
    }

    [Fact]
    public void Empty_and_tiny_indexes_answer_without_error()
    {
        var index = new HnswIndex(4, DistanceKind.Dot);
        Assert.Empty(index.Search([1, 0, 0, 0], 5));
        index.Upsert(3, [1, 0, 0, 0]);
        Assert.Equal([new ScoredId(3, 1f)], index.Search([1, 0, 0, 0], 5));
        index.Delete(3);
        Assert.Empty(index.Search([1, 0, 0, 0], 5));
        Assert.Equal(0, index.Count);
        Assert.False(index.TryGetVector(3, new float[4]));
    }
}
