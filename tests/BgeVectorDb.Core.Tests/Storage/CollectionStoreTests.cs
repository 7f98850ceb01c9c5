using System.Diagnostics;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary><see cref="CollectionStore.CheckpointAsync"/> when its wait is cancelled (the shutdown deadline) while
/// FASTER's flush is still running on a slow disk (<see cref="SlowDevice"/>).</summary>
public sealed class CollectionStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new("bgevdb-store", create: false);

    public void Dispose() => _temp.Dispose();

    private static void Put(CollectionStore store, params string[] ids)
    {
        using var writer = store.BeginWrite();
        foreach (var id in ids) writer.PutDocument(int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture), id, "text " + id, Document.NoMetadata);
    }

    [Fact]
    public async Task A_cancelled_checkpoint_wait_returns_at_once_and_leaves_the_store_usable_the_next_checkpoint_covers_everything()
    {
        var storeDir = CollectionLayout.StoreDirectory(_temp.Path);
        var checkpointDir = CollectionLayout.CheckpointDirectory(_temp.Path);
        var delay = TimeSpan.FromSeconds(1);
        // The hook is static: only this test's store gets the slow device.
        CollectionStore.DeviceHook = (dir, device) => dir == storeDir ? new SlowDevice(device, delay) : device;
        Guid token;
        try
        {
            using var store = CollectionStore.Create(storeDir, checkpointDir);
            Put(store, "d0", "d1");
            var sw = Stopwatch.StartNew();
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.CheckpointAsync(cts.Token));
            var cancelledAfter = sw.Elapsed;
            Assert.True(cancelledAfter < delay, $"the cancelled wait returned after {cancelledAfter}, not before the {delay} write finished");

            // The first flush still runs: the next checkpoint waits for it, then takes its own.
            Put(store, "d2");
            token = await store.CheckpointAsync();
            Assert.True(sw.Elapsed >= delay, $"the next checkpoint finished after {sw.Elapsed}, before the first flush could have");
        }
        finally
        {
            CollectionStore.DeviceHook = null;
        }
        using var recovered = CollectionStore.Recover(storeDir, checkpointDir, token);
        Assert.Equal(["d0", "d1", "d2"], recovered.ReadAll().OfType<DocumentRecord>().Select(d => d.Id).Order().ToArray());
    }
}
