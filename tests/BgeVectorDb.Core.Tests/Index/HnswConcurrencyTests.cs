using System.Collections.Concurrent;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Index.Hnsw;
using BgeVectorDb.Synthetic;

namespace BgeVectorDb.Core.Tests.Index;

public class HnswConcurrencyTests
{
    [Fact]
    public async Task Four_writers_and_four_readers_see_only_valid_results()
    {
        const int Dim = 32, Initial = 2000, OpsPerWriter = 600, SearchesPerReader = 600, K = 10;
        var mixture = new GaussianMixture(Dim, Clusters: 16, Seed: 8);
        var data = mixture.Generate(Initial + 4 * OpsPerWriter);
        var queries = mixture.Generate(64, stream: 1);
        var index = new HnswIndex(Dim, DistanceKind.Cosine, m: 8, efConstruction: 64);
        for (var i = 0; i < Initial; i++) index.Upsert(i, data[i]);

        // Writer w owns ids with id % 4 == w: it inserts new ids, replaces and deletes its own ids.
        // A deleted id is never written again, so once its delete returned it must never be seen.
        var deletedDone = new ConcurrentDictionary<int, bool>();
        var errors = new ConcurrentQueue<string>();
        var searches = 0;
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            var rng = new Random(100 + w);
            var mine = Enumerable.Range(0, Initial).Where(i => i % 4 == w).ToList();
            for (var op = 0; op < OpsPerWriter; op++)
            {
                var roll = rng.Next(3);
                if (roll == 0)
                {
                    var id = Initial + op * 4 + w;
                    index.Upsert(id, data[id]);
                    mine.Add(id);
                }
                else if (roll == 1 && mine.Count > 0)
                {
                    index.Upsert(mine[rng.Next(mine.Count)], data[rng.Next(data.Length)]);
                }
                else if (mine.Count > 0)
                {
                    var at = rng.Next(mine.Count);
                    var id = mine[at];
                    mine.RemoveAt(at);
                    index.Delete(id);
                    deletedDone[id] = true;
                }
            }
        })).ToArray();
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(() =>
        {
            for (var i = 0; i < SearchesPerReader; i++)
            {
                var gone = deletedDone.Keys.ToHashSet();
                var hits = index.Search(queries[(i + r) % queries.Length], K, ef: 32);
                Interlocked.Increment(ref searches);
                if (hits.Length != K) errors.Enqueue($"{hits.Length} hits");
                if (hits.Select(h => h.Id).Distinct().Count() != hits.Length) errors.Enqueue("duplicate ids");
                for (var j = 0; j < hits.Length; j++)
                {
                    if (gone.Contains(hits[j].Id)) errors.Enqueue($"deleted id {hits[j].Id} returned");
                    if (j > 0 && hits[j].Score > hits[j - 1].Score) errors.Enqueue("not sorted");
                    if (!float.IsFinite(hits[j].Score)) errors.Enqueue("score not finite");
                }
            }
        })).ToArray();

        await Task.WhenAll(writers.Concat(readers));

        Assert.Empty(errors);
        Assert.Equal(4 * SearchesPerReader, searches);
        var liveIds = Enumerable.Range(0, Initial + 4 * OpsPerWriter).Where(id => id < index.NodeBound && index.TryGetVector(id, new float[Dim])).ToList();
        Assert.Equal(liveIds.Count, index.Count);
        Assert.DoesNotContain(liveIds, deletedDone.ContainsKey);
        // After the storm the graph still answers well: a live point's own vector is found (replaces
        // copied other points' vectors, so the exact match may be a duplicate with a smaller id).
        var v = new float[Dim];
        var selfFound = liveIds.Take(300).Count(id => index.TryGetVector(id, v) && index.Search(v, 1, ef: 64)[0].Score >= 0.9999f);
        Assert.True(selfFound >= 297, $"only {selfFound}/300 live points find themselves");
    }

    [Fact]
    public void Parallel_inserts_while_the_arena_grows_build_a_searchable_graph()
    {
        // Regression: a writer linking to a node added after its storage snapshot read outside its
        // chunk table (access violation). Many small chunks growing under 8 concurrent writers.
        const int Dim = 8, N = 40 * HnswIndex.ChunkSize;
        var mixture = new GaussianMixture(Dim, Clusters: 4, Seed: 2);
        var data = mixture.Generate(N);
        var index = new HnswIndex(Dim, DistanceKind.Cosine, m: 4, efConstruction: 16);
        Parallel.For(0, N, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => index.Upsert(i, data[i]));
        for (var i = 0; i < N; i += 97) index.Delete(i);

        Assert.Equal(N - (N + 96) / 97, index.Count);
        Assert.Equal(N, index.NodeBound);
        var hits = index.Search(data[1], 5, ef: 50);
        Assert.Equal(5, hits.Length);
        Assert.Equal(1, hits[0].Id);
    }
}
