using System.Diagnostics;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary><see cref="CollectionCatalog.CloseAsync"/> with a checkpoint deadline while one collection's store sits on a
/// slow disk (<see cref="SlowDevice"/>, each store write delayed): the close returns soon after the deadline, a warning
/// names the collection, and every acked write is there after reopening.</summary>
public sealed class ShutdownCheckpointTests : IDisposable
{
    private const int Dim = 8;
    private static readonly StorageOptions OnShutdownOnly = new() { CheckpointIntervalSeconds = 0, CheckpointEveryWrites = 0, CheckpointOnShutdown = true };
    private readonly TempDirectory _dir = new("bgevdb-shutckpt", create: false);

    public void Dispose()
    {
        CollectionStore.DeviceHook = null;
        _dir.Dispose();
    }

    /// <summary>Store writes of collection <paramref name="name"/> in this test's folder take <paramref name="delay"/>
    /// (the hook is static: other tests' stores are left alone).</summary>
    private void SlowStore(string name, TimeSpan delay)
    {
        var folder = Path.Combine(_dir.Path, "collections", name) + Path.DirectorySeparatorChar;   // every store generation
        CollectionStore.DeviceHook = (dir, device) => dir.StartsWith(folder, StringComparison.Ordinal) ? new SlowDevice(device, delay) : device;
    }

    private static Document Doc(int i, string text)
    {
        var rng = new Random(i);
        return new Document($"d{i}", text, Document.NoMetadata, Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray());
    }

    [Fact]
    public async Task A_checkpoint_flushing_at_the_deadline_is_abandoned_the_others_finish_and_reopening_finds_every_document()
    {
        var logger = new ListLogger();
        SlowStore("slow", TimeSpan.FromSeconds(3));
        var catalog = DurableCatalogTests.OpenCatalog(_dir.Path, OnShutdownOnly, logger);
        foreach (var name in new[] { "fast", "slow" })
        {
            var c = catalog.Create(new CollectionSpec(name, "none", Dim));
            await c.UpsertAsync(Enumerable.Range(0, 200).Select(i => Doc(i, $"text {i}")).ToArray());
        }
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var sw = Stopwatch.StartNew();
        await catalog.CloseAsync(deadline.Token);
        var closed = sw.Elapsed;
        Assert.True(closed < TimeSpan.FromSeconds(1.5), $"closing took {closed}, the deadline was 0.5 s\n{string.Join("\n", logger.Lines)}");
        Assert.Contains(logger.Lines, l => l.Contains("Checkpoint 1 of collection fast (shutdown)", StringComparison.Ordinal));
        Assert.Contains(logger.Lines, l => l.StartsWith("Warning: Collection slow: the shutdown checkpoint did not finish by the shutdown deadline and was abandoned", StringComparison.Ordinal));
        Assert.DoesNotContain(logger.Lines, l => l.Contains("Collection fast: the shutdown checkpoint", StringComparison.Ordinal));
        Assert.DoesNotContain(logger.Lines, l => l.Contains("were not closed", StringComparison.Ordinal));

        CollectionStore.DeviceHook = null;
        await using var reopened = DurableCatalogTests.OpenCatalog(_dir.Path);
        Assert.Equal(200, reopened.Get("fast").Count);
        Assert.Equal(200, reopened.Get("slow").Count);
        Assert.Equal(1, reopened.Get("fast").CheckpointSequence);
        Assert.Equal(0, reopened.Get("slow").CheckpointSequence);   // no manifest names the abandoned checkpoint: the WAL was replayed
    }

    private static readonly EngineLimits BigTexts = new() { MaxTextLength = 1 << 20 };

    /// <summary>A catalog whose collection "big" sits on a store where every write takes 1 s, holding 40 documents of
    /// 1 MB: a cut overflows the store's 32 MB in memory, so copying it waits for page flushes (a phase that cannot be
    /// cancelled).</summary>
    private async Task<(CollectionCatalog Catalog, Collection Big)> OpenBigOnSlowDiskAsync(StorageOptions storage, ListLogger logger)
    {
        SlowStore("big", TimeSpan.FromSeconds(1));
        var catalog = CollectionCatalog.Open(_dir.Path, FixedModelProvider.None, BigTexts, logger, storage);
        var big = catalog.Create(new CollectionSpec("big", "none", Dim));
        var text = new string('x', 1 << 20);
        for (var i = 0; i < 40; i++) await big.UpsertAsync([Doc(i, text)]);
        return (catalog, big);
    }

    /// <summary>Closes with a 0.3 s checkpoint deadline: the close returns within 1.5 s, names "big" with
    /// <paramref name="how"/> and says it was left unclosed.</summary>
    private static async Task CloseAtDeadlineLeavingBigUnclosedAsync(CollectionCatalog catalog, ListLogger logger, string how)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var sw = Stopwatch.StartNew();
        await catalog.CloseAsync(deadline.Token);
        var closed = sw.Elapsed;
        Assert.True(closed < TimeSpan.FromSeconds(1.5), $"closing took {closed}, the deadline was 0.3 s\n{string.Join("\n", logger.Lines)}");
        Assert.Contains(logger.Lines, l => l.StartsWith("Warning: Collection big: the shutdown checkpoint did not finish by the shutdown deadline and " + how, StringComparison.Ordinal));
        Assert.Contains(logger.Lines, l => l.StartsWith("Warning: Collection big: its WAL and store were not closed", StringComparison.Ordinal));
    }

    /// <summary>In a server the process exits after the close. Here the abandoned checkpoint ends by itself (its flush
    /// wait is cancelled), then the collection closes and reopens with every document.</summary>
    private async Task ReopenBigWithEveryDocumentAsync(Collection big, ListLogger logger)
    {
        await big.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        CollectionStore.DeviceHook = null;
        await using var reopened = CollectionCatalog.Open(_dir.Path, FixedModelProvider.None, BigTexts, logger, OnShutdownOnly);
        Assert.Equal(40, reopened.Get("big").Count);
    }

    [Fact]
    public async Task A_checkpoint_whose_cut_is_stuck_on_the_disk_at_the_deadline_is_left_running_and_its_collection_unclosed()
    {
        var logger = new ListLogger();
        var (catalog, big) = await OpenBigOnSlowDiskAsync(OnShutdownOnly, logger);
        await CloseAtDeadlineLeavingBigUnclosedAsync(catalog, logger, "was still running");
        await ReopenBigWithEveryDocumentAsync(big, logger);
    }

    [Fact]
    public async Task A_periodic_checkpoint_whose_cut_is_stuck_at_shutdown_does_not_hold_the_close_past_the_deadline()
    {
        // As above, but the stuck cut belongs to the write-count checkpoint (every 40 writes) already running when the
        // catalog closes.
        var logger = new ListLogger();
        var (catalog, big) = await OpenBigOnSlowDiskAsync(OnShutdownOnly with { CheckpointEveryWrites = 40 }, logger);
        await Task.Delay(600);   // the loop looks every 250 ms; the cut then takes seconds
        await CloseAtDeadlineLeavingBigUnclosedAsync(catalog, logger, "was not started");
        await ReopenBigWithEveryDocumentAsync(big, logger);
    }
}
