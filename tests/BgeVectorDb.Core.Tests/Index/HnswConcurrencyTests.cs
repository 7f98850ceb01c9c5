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
        var ops = WriterOps(Initial, OpsPerWriter, data.Length);
        var index = NewStormIndex(Dim, data, Initial);

        // Writer w owns ids with id % 4 == w: it inserts new ids, replaces and deletes its own ids.
        // A deleted id is never written again, so once its delete returned it must never be seen.
        var deletedDone = new ConcurrentDictionary<int, bool>();
        var errors = new ConcurrentQueue<string>();
        var searches = 0;
        var writers = ops.Select(mine => Task.Run(() =>
        {
            foreach (var op in mine)
            {
                Apply(index, data, op);
                if (op.Delete) deletedDone[op.Id] = true;
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
        var liveIds = LiveIds(index, data.Length);
        Assert.Equal(liveIds.Count, index.Count);
        Assert.DoesNotContain(liveIds, deletedDone.ContainsKey);

        // The same operations applied by one thread (round robin over the writers' lists) end in the same
        // live set; the graph the storm left must search about as well as that one. Self-search misses
        // are inherent to HNSW after deletes and replaces at m = 8 (measured 5-17 of ~2,000 points either
        // way, same spread concurrent and sequential), so the bar is relative, over every live point.
        var sequential = NewStormIndex(Dim, data, Initial);
        for (var i = 0; i < OpsPerWriter; i++)
        {
            foreach (var mine in ops) if (i < mine.Count) Apply(sequential, data, mine[i]);
        }
        Assert.Equal(liveIds, LiveIds(sequential, data.Length));
        var missed = SelfSearchMisses(index, liveIds, ef: 64);
        var missedSequential = SelfSearchMisses(sequential, liveIds, ef: 64);
        Assert.True(missed <= 2 * missedSequential + 10 && missed <= liveIds.Count / 50,
            $"after the concurrent storm {missed} of {liveIds.Count} live points do not find themselves; after the same operations in one thread {missedSequential}");
    }

    private sealed record WriterOp(int Id, int Source, bool Delete);

    /// <summary>Each writer's operations, fixed in advance: insert new ids, replace own ids with another
    /// point's vector, delete own ids (never written again).</summary>
    private static List<WriterOp>[] WriterOps(int initial, int opsPerWriter, int points) =>
        Enumerable.Range(0, 4).Select(w =>
        {
            var rng = new Random(100 + w);
            var mine = Enumerable.Range(0, initial).Where(i => i % 4 == w).ToList();
            var list = new List<WriterOp>();
            for (var op = 0; op < opsPerWriter; op++)
            {
                var roll = rng.Next(3);
                if (roll == 0)
                {
                    var id = initial + op * 4 + w;
                    list.Add(new WriterOp(id, id, false));
                    mine.Add(id);
                }
                else if (roll == 1 && mine.Count > 0)
                {
                    list.Add(new WriterOp(mine[rng.Next(mine.Count)], rng.Next(points), false));
                }
                else if (mine.Count > 0)
                {
                    var at = rng.Next(mine.Count);
                    list.Add(new WriterOp(mine[at], 0, true));
                    mine.RemoveAt(at);
                }
            }
            return list;
        }).ToArray();

    private static HnswIndex NewStormIndex(int dim, float[][] data, int initial)
    {
        var index = new HnswIndex(dim, DistanceKind.Cosine, m: 8, efConstruction: 64);
        for (var i = 0; i < initial; i++) index.Upsert(i, data[i]);
        return index;
    }

    private static void Apply(HnswIndex index, float[][] data, WriterOp op)
    {
        if (op.Delete) index.Delete(op.Id);
        else index.Upsert(op.Id, data[op.Source]);
    }

    private static List<int> LiveIds(HnswIndex index, int bound) =>
        Enumerable.Range(0, bound).Where(id => id < index.NodeBound && index.TryGetVector(id, new float[index.Dimension])).ToList();

    /// <summary>Live points whose own vector is not the top hit (replaces copy other points' vectors, so
    /// an exact duplicate with another id counts as found).</summary>
    private static int SelfSearchMisses(HnswIndex index, IEnumerable<int> ids, int ef)
    {
        var v = new float[index.Dimension];
        return ids.Count(id => !index.TryGetVector(id, v) || index.Search(v, 1, ef: ef)[0].Score < 0.9999f);
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
        // Every link names a node that exists, no node links to itself or twice to one node, and every
        // node (but a lone first one) has links at each of its levels.
        for (var id = 0; id < N; id++)
        {
            Assert.True(index.TryExportNode(id, out var node), $"node {id} missing");
            for (var l = 0; l < node.Links.Length; l++)
            {
                var links = node.Links[l];
                Assert.True(links.Length > 0 || index.Entry.MaxLevel == l && index.Entry.EntryPoint == id, $"node {id} has no links at level {l}");
                Assert.All(links, n => Assert.True(n >= 0 && n < N && n != id, $"node {id} links to {n}"));
                Assert.Equal(links.Length, links.Distinct().Count());
            }
        }
        // Searchable as well as the same points inserted by one thread in the same order. A single
        // point's self-search is no test: at m = 4 some points are missed either way (about 1 in 30 of
        // the first 2,000 ids, the earliest inserted, at ef 50), so compare misses over many points.
        var sequential = new HnswIndex(Dim, DistanceKind.Cosine, m: 4, efConstruction: 16);
        for (var i = 0; i < N; i++) sequential.Upsert(i, data[i]);
        for (var i = 0; i < N; i += 97) sequential.Delete(i);
        var sample = Enumerable.Range(0, N).Where(i => i % 97 != 0 && i % 13 == 1).ToList();
        var missed = SelfSearchMisses(index, sample, ef: 50);
        var missedSequential = SelfSearchMisses(sequential, sample, ef: 50);
        Assert.True(missed <= 2 * missedSequential + 20 && missed <= sample.Count / 20,
            $"parallel build: {missed} of {sample.Count} points do not find themselves; sequential build: {missedSequential}");
    }
}
