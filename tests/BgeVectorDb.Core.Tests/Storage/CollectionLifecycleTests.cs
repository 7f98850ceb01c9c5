using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary>Deletes, re-creates and restores of one collection name racing each other and writes.</summary>
public sealed class CollectionLifecycleTests : IDisposable
{
    private const int Dim = 8;
    private readonly TempDirectory _dir = new("bgevdb-lifecycle", create: false);

    public void Dispose() => _dir.Dispose();

    private static async Task Fill(Collection c, int from, int to, int seed = 0)
    {
        for (var i = from; i < to; i += 50)
        {
            await c.UpsertAsync(Enumerable.Range(i, Math.Min(50, to - i)).Select(j => DurableCatalogTests.Doc(j, seed)).ToArray());
        }
    }

    [Fact]
    public async Task Recreating_a_name_while_its_delete_runs_never_loses_the_new_collections_acked_writes()
    {
        const int trials = 6;
        var lost = new List<string>();
        for (var trial = 0; trial < trials; trial++)
        {
            var dir = Path.Combine(_dir.Path, $"t{trial}");
            await using (var catalog = DurableCatalogTests.OpenCatalog(dir))
            {
                var old = catalog.Create(new CollectionSpec("x", "none", Dim));
                await Fill(old, 0, 300);
                await old.CheckpointAsync();
                await Fill(old, 300, 400);
                var delete = Task.Run(() => catalog.DeleteAsync("x"));
                while (catalog.List().Count > 0 && !delete.IsCompleted) await Task.Yield();
                var fresh = await Task.Run(() => catalog.Create(new CollectionSpec("x", "none", Dim)));
                await Fill(fresh, 1000, 1020, seed: trial + 1);   // acked
                await delete;
                Assert.Same(fresh, catalog.Get("x"));
                Assert.Equal(20, fresh.Count);
            }
            await using var reopened = DurableCatalogTests.OpenCatalog(dir);
            try
            {
                var count = reopened.Get("x").Count;
                if (count != 20) lost.Add($"trial {trial}: {count} documents after reopen, 20 acked");
            }
            catch (EngineException ex)
            {
                lost.Add($"trial {trial}: {ex.Message}");
            }
        }
        Assert.True(lost.Count == 0, string.Join("\n", lost));
    }

    [Fact]
    public async Task A_deleted_collections_files_go_through_a_tombstone_that_recovery_removes()
    {
        Directory.CreateDirectory(Path.Combine(_dir.Path, "collections"));
        await using (var catalog = DurableCatalogTests.OpenCatalog(_dir.Path))
        {
            await Fill(catalog.Create(new CollectionSpec("keep", "none", Dim)), 0, 10);
        }
        // A crash between the rename and the removal leaves a tombstone (and a crashed restore its staging folder).
        var tombstone = Path.Combine(_dir.Path, "collections", CollectionCatalog.TombstonePrefix + "old-0123");
        Directory.CreateDirectory(Path.Combine(tombstone, "wal"));
        File.WriteAllText(Path.Combine(tombstone, "wal", "junk"), "x");
        var staging = Path.Combine(_dir.Path, "collections", "keep2.restoring");
        Directory.CreateDirectory(staging);
        await using (var reopened = DurableCatalogTests.OpenCatalog(_dir.Path))
        {
            Assert.Equal(10, reopened.Get("keep").Count);
            Assert.False(Directory.Exists(tombstone));
            Assert.False(Directory.Exists(staging));
            await reopened.DeleteAsync("keep");
            Assert.Equal([], Directory.GetFileSystemEntries(Path.Combine(_dir.Path, "collections")));
        }
    }

    [Fact]
    public async Task Writes_searches_and_checkpoints_racing_a_delete_end_with_not_found_never_a_disposed_object()
    {
        await using var catalog = DurableCatalogTests.OpenCatalog(_dir.Path);
        var c = catalog.Create(new CollectionSpec("busy", "none", Dim));
        await Fill(c, 0, 100);
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var acked = 0;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task Writer(int w)
        {
            for (var i = 0; ; i++)
            {
                try
                {
                    await c.UpsertAsync(Enumerable.Range(0, 5).Select(j => DurableCatalogTests.Doc(10_000 + w * 100_000 + i * 5 + j)).ToArray());
                    if (Interlocked.Increment(ref acked) == 20) started.TrySetResult();
                    if (i % 3 == 0) await c.DeleteAsync([$"doc-{i}"]);
                }
                catch (Exception ex)
                {
                    failures.Add(ex);
                    return;
                }
            }
        }
        var stop = new CancellationTokenSource();
        async Task Reader()
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    c.SearchByVector(new float[Dim] { 1, 0, 0, 0, 0, 0, 0, 0 }, new Search.SearchOptions(5));
                    c.Get(["doc-1"], ReturnFields.Default);
                    await c.CheckpointAsync();
                }
                catch (Exception ex)
                {
                    failures.Add(ex);
                    return;
                }
            }
        }
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(() => Writer(w))).ToArray();
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(Reader)).ToArray();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await catalog.DeleteAsync("busy");
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(3, failures.Count(f => f is EngineException));
        foreach (var f in failures)
        {
            var e = Assert.IsType<EngineException>(f);
            Assert.Equal(EngineErrorKind.NotFound, e.Kind);
            Assert.Contains("'busy' was deleted", e.Message, StringComparison.Ordinal);
        }
        Assert.Throws<EngineException>(() => catalog.Get("busy"));
    }
}
