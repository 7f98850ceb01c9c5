using System.Collections.Concurrent;
using BgeVectorDb.Core.Index.Hnsw;
using BgeVectorDb.Core.Primitives;
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
    public async Task A_replace_is_never_seen_half_written()
    {
        // One writer flips node 7 between two vectors that differ in every component; readers search
        // (graph and exact scan) and read the vector back meanwhile. Every score of node 7 must be exactly
        // the score of the whole old or the whole new vector, and every read-back one of the two.
        const int Dim = 384, N = 500, Flips = 5000, Target = 7;
        var rng = new Random(5);
        float[] RandomVector(float scale) => Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() - 0.5) * scale).ToArray();
        var query = RandomVector(1);
        var a = query.Select(x => x * 50 + 1f).ToArray();
        var b = query.Select(x => x * 50 - 1f).ToArray();
        var index = new HnswIndex(Dim, DistanceKind.Dot, m: 8, efConstruction: 16);
        for (var i = 0; i < N; i++) index.Upsert(i, i == Target ? a : RandomVector(1));
        var scoreA = Kernels.Dot(query, a);
        var scoreB = Kernels.Dot(query, b);
        Assert.NotEqual(scoreA, scoreB);

        var done = false;
        var errors = new ConcurrentQueue<string>();
        long checkedScores = 0, checkedReads = 0;
        using var started = new CountdownEvent(2);
        Task Run(Action body) => Task.Factory.StartNew(body, TaskCreationOptions.LongRunning); // own threads: 2 cores
        var writer = Run(() =>
        {
            started.Wait(); // both readers are running before the first flip
            for (var f = 0; f < Flips; f++) index.Upsert(Target, f % 2 == 0 ? b : a);
            Volatile.Write(ref done, true);
        });
        var searcher = Run(() =>
        {
            started.Signal();
            while (!Volatile.Read(ref done))
            {
                var graph = index.Search(query, 1, ef: 16);
                var exact = index.Search(query, 1, id => id % 50 == Target, ef: 16); // 2% match: the planner scans exactly
                foreach (var hit in graph.Concat(exact))
                {
                    if (hit.Id != Target) errors.Enqueue($"top hit {hit.Id}, expected {Target}");
                    else if (hit.Score != scoreA && hit.Score != scoreB) errors.Enqueue($"score {hit.Score}: neither {scoreA} nor {scoreB}");
                    Interlocked.Increment(ref checkedScores);
                }
            }
        });
        var reader = Run(() =>
        {
            started.Signal();
            var v = new float[Dim];
            while (!Volatile.Read(ref done))
            {
                Assert.True(index.TryGetVector(Target, v));
                if (!v.AsSpan().SequenceEqual(a) && !v.AsSpan().SequenceEqual(b)) errors.Enqueue("read back a mix of the two vectors");
                Interlocked.Increment(ref checkedReads);
            }
        });
        await Task.WhenAll(writer, searcher, reader);

        Assert.Equal(HnswIndex.FilterPlan.Exact, index.Plan(id => id % 50 == Target, 16));
        Assert.True(checkedScores > 0 && checkedReads > 0, $"{checkedScores} scores, {checkedReads} reads checked");
        Assert.True(errors.IsEmpty, $"{errors.Count} bad observations in {checkedScores} scores / {checkedReads} reads, first: {errors.FirstOrDefault()}");
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
