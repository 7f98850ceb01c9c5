using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Storage;
using Xunit.Abstractions;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary>Store generations (<c>Checkpointer.Generations.cs</c>) on a real data folder: the WAL is truncated only
/// behind a generation that shares no file with the current one, so one damaged store record is rebuilt from it plus
/// the WAL; rewrites keep disk use bounded; writes during a rewrite are neither lost nor duplicated.</summary>
public sealed class StoreGenerationTests(ITestOutputHelper output) : IDisposable
{
    private const int Dim = 8;
    private static readonly StorageOptions NoTimers = DurableCatalogTests.NoTimers;
    private readonly TempDirectory _dir = new("bgevdb-generations", create: false);

    public void Dispose() => _dir.Dispose();

    private string CollectionDir(string name) => Path.Combine(_dir.Path, "collections", name);

    private static Task Fill(Collection c, int from, int to, int seed = 0, string? pad = null) => DurableCatalogTests.Fill(c, from, to, seed, pad);

    [Fact]
    public async Task A_flipped_bit_in_the_current_store_is_rebuilt_from_the_older_generation_and_the_kept_wal()
    {
        await using (var catalog = DurableCatalogTests.OpenCatalog(_dir.Path, NoTimers with { StoreRewriteWalBytes = 1 }))
        {
            var c = catalog.Create(new CollectionSpec("bit", "none", Dim));
            await Fill(c, 0, 200);
            Assert.Equal(1, (await c.CheckpointAsync())!.Generation);   // generation 0 had no checkpoint, nothing to keep
            // More WAL than the store's size: the next checkpoint rewrites the store.
            await Fill(c, 0, 300, seed: 1);
            await Fill(c, 0, 300, seed: 1);
            Assert.Equal(2, (await c.CheckpointAsync())!.Generation);
            await Fill(c, 300, 310);
            await c.DeleteAsync(["doc-3"]);
            Assert.True(((FasterLogWal)c.Wal!).Truncated, "the WAL is truncated behind generation 1");
        }
        Assert.Equal([2, 1], CollectionLayout.Generations(CollectionDir("bit")));
        var log = Directory.GetFiles(CollectionLayout.StoreDirectory(CollectionLayout.GenerationDirectory(CollectionDir("bit"), 2)), "hlog.log*").Single();
        var bytes = File.ReadAllBytes(log);
        var marker = System.Text.Encoding.UTF8.GetBytes("text 57 seed 1");
        var at = bytes.AsSpan().IndexOf(marker);
        Assert.True(at > 0, "document 57's record is in generation 2's store");
        Assert.Equal(-1, bytes.AsSpan(at + 1).IndexOf(marker));   // written once: the store was rewritten whole
        bytes[at + 3] ^= 0x04;
        File.WriteAllBytes(log, bytes);

        var logger = new ListLogger();
        await using (var reopened = DurableCatalogTests.OpenCatalog(_dir.Path, NoTimers, logger))
        {
            Assert.Empty(reopened.Failed);
            var r = reopened.Get("bit");
            Assert.Equal(309, r.Count);
            var ids = Enumerable.Range(0, 310).Where(i => i != 3).Select(i => $"doc-{i}").ToArray();
            var (found, missing) = r.Get(ids, ReturnFields.Default);
            Assert.Empty(missing);
            Assert.Equal(DurableCatalogTests.Doc(57, seed: 1).Text, found.Single(d => d.Id == "doc-57").Text);
            Assert.Equal(DurableCatalogTests.Doc(305).Text, found.Single(d => d.Id == "doc-305").Text);
            Assert.Equal(["doc-3"], r.Get(["doc-3"], ReturnFields.Default).Missing);
            Assert.Contains(logger.Lines, l => l.Contains("corrupt", StringComparison.Ordinal));
            Assert.Contains(logger.Lines, l => l.Contains("of store generation 1 ", StringComparison.Ordinal));

            // Damage found: the next checkpoint writes a new generation and deletes the damaged one.
            Assert.Equal(3, (await r.CheckpointAsync())!.Generation);
            Assert.Equal([3, 1], CollectionLayout.Generations(CollectionDir("bit")));
        }
        var again = new ListLogger();
        await using var third = DurableCatalogTests.OpenCatalog(_dir.Path, NoTimers, again);
        Assert.Equal(309, third.Get("bit").Count);
        Assert.Contains(again.Lines, l => l.Contains("of store generation 3 ", StringComparison.Ordinal));
        Assert.DoesNotContain(again.Lines, l => l.Contains("unusable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rewriting_the_same_documents_keeps_the_wal_and_the_stores_bounded()
    {
        const int Docs = 200, Rounds = 40;
        var pad = new string('p', 1000);
        async Task<(long Wal, long Store, IReadOnlyList<int> Generations)> Run(string name, StorageOptions options)
        {
            await using var catalog = DurableCatalogTests.OpenCatalog(_dir.Path, options);
            var c = catalog.Create(new CollectionSpec(name, "none", Dim));
            for (var round = 0; round < Rounds; round++)
            {
                await Fill(c, 0, Docs, seed: round, pad);
                await c.CheckpointAsync();
            }
            Assert.Equal(Docs, c.Count);
            return (c.Wal!.SizeBytes, CollectionLayout.GenerationsBytes(CollectionDir(name), CollectionLayout.Store), CollectionLayout.Generations(CollectionDir(name)));
        }
        var bounded = await Run("bounded", NoTimers with { StoreRewriteWalBytes = 256 << 10 });
        var whole = await Run("whole", NoTimers with { StoreRewriteWalBytes = 1L << 40 });
        output.WriteLine($"rewrites: WAL {bounded.Wal:N0} B, stores {bounded.Store:N0} B, generations [{string.Join(",", bounded.Generations)}]; " +
            $"no rewrite: WAL {whole.Wal:N0} B, store {whole.Store:N0} B");
        // About 40 x 200 x 1.1 KB written: without rewrites the WAL keeps all of it and the store every version.
        Assert.True(whole.Wal > 8_000_000, $"whole WAL {whole.Wal}");
        Assert.Equal(2, bounded.Generations.Count);
        Assert.True(bounded.Generations[0] >= 5, $"generation {bounded.Generations[0]}: rewrites happened");
        // Bounded: the WAL since the fallback's checkpoint (threshold + one round) and two compact stores.
        Assert.True(bounded.Wal < 1_200_000, $"bounded WAL {bounded.Wal}");
        Assert.True(bounded.Store < whole.Store / 3, $"bounded stores {bounded.Store} vs {whole.Store}");
        await using var reopened = DurableCatalogTests.OpenCatalog(_dir.Path, NoTimers);
        var (found, missing) = reopened.Get("bounded").Get(Enumerable.Range(0, Docs).Select(i => $"doc-{i}").ToArray(), ReturnFields.Default);
        Assert.Empty(missing);
        Assert.All(found, d => Assert.Contains($" seed {Rounds - 1} ", d.Text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Writes_and_deletes_during_rewrites_are_all_in_the_new_generation_or_the_wal_after_it()
    {
        const int Ids = 400;
        var expected = new Dictionary<int, int?>();   // id -> seed of the last acked upsert, null when deleted
        Dictionary<string, float[]> vectors;
        await using (var catalog = DurableCatalogTests.OpenCatalog(_dir.Path, NoTimers with { StoreRewriteWalBytes = 1 }))
        {
            var c = catalog.Create(new CollectionSpec("busy", "none", Dim));
            await Fill(c, 0, Ids);
            for (var i = 0; i < Ids; i++) expected[i] = 0;
            c.Checkpointer!.RewriteChunkIds = 7;   // many chunks, each its own hold: writes land between them
            using var stop = new CancellationTokenSource();
            async Task Writer(int part)
            {
                var rng = new Random(part);
                for (var n = 1; !stop.IsCancellationRequested; n++)
                {
                    // Each writer owns its ids (even or odd), so the last acked write of each is known.
                    var ids = Enumerable.Range(0, 10).Select(_ => rng.Next(Ids / 2) * 2 + part).Distinct().ToArray();
                    if (n % 5 == 0)
                    {
                        await c.DeleteAsync(ids.Select(id => $"doc-{id}").ToArray());
                        lock (expected) foreach (var id in ids) expected[id] = null;
                    }
                    else
                    {
                        await c.UpsertAsync(ids.Select(id => DurableCatalogTests.Doc(id, seed: n)).ToArray());
                        lock (expected) foreach (var id in ids) expected[id] = n;
                    }
                }
            }
            var writers = new[] { Task.Run(() => Writer(0)), Task.Run(() => Writer(1)) };
            // Checkpoints while the writers run, until six of them rewrote the store (each once the WAL outgrew it).
            var generations = new List<int>();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (generations.Count < 6 && DateTime.UtcNow < deadline)
            {
                if ((await c.CheckpointAsync())!.Generation is { } g) generations.Add(g);
                await Task.Delay(20);
            }
            await stop.CancelAsync();
            await Task.WhenAll(writers);
            Assert.Equal([1, 2, 3, 4, 5, 6], generations);
            vectors = c.Get(expected.Keys.Select(i => $"doc-{i}").ToArray(), new ReturnFields(false, false, true)).Found.ToDictionary(d => d.Id, d => d.Vector);
        }
        await using var reopened = DurableCatalogTests.OpenCatalog(_dir.Path, NoTimers);
        var r2 = reopened.Get("busy");
        var live = expected.Where(p => p.Value is not null).ToArray();
        Assert.Equal(live.Length, r2.Count);
        var (found, missing) = r2.Get(expected.Keys.Select(i => $"doc-{i}").ToArray(), new ReturnFields(true, true, true));
        Assert.Equal(expected.Where(p => p.Value is null).Select(p => $"doc-{p.Key}").Order(), missing.Order());
        foreach (var d in found)
        {
            var id = int.Parse(d.Id.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture);
            var want = DurableCatalogTests.Doc(id, seed: expected[id]!.Value);
            Assert.Equal(want.Text, d.Text);
            Assert.Equal(vectors[d.Id], d.Vector);
        }
        // Every live document finds itself: the index nodes came back with the documents.
        var self = found.Count(d => r2.SearchByVector(d.Vector, new Search.SearchOptions(1)).Hits[0].Id == d.Id);
        Assert.True(self >= found.Count * 0.98, $"{self} of {found.Count} find themselves");
    }
}
