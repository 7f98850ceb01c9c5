using BgeVectorDb.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary><see cref="Checkpointer"/> on a real folder (FasterLog + FasterKV) with a <see cref="MemoryState"/>: each
/// cut copies exactly the ids written since the previous one and covers the WAL up to its hold; pruning keeps two
/// checkpoints and truncates the WAL only when asked.</summary>
public sealed class CheckpointerTests : IDisposable
{
    private readonly TempDirectory _temp = new("bgevdb-checkpointer", create: false);

    private string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    /// <summary>No store rewrite unless a test asks for one (a threshold far above what the tests write).</summary>
    internal static readonly StorageOptions NoRewrite = new() { StoreRewriteWalBytes = 1L << 40 };

    private MemoryState Open(StorageOptions? options = null)
    {
        var state = new MemoryState(FasterLogWal.Open(CollectionLayout.WalDirectory(_dir)));
        state.Attach(new Checkpointer("t", state, CollectionStore.Create(CollectionLayout.StoreDirectory(_dir), CollectionLayout.CheckpointDirectory(_dir)), 0,
            new GenerationInfo(_dir, 0, BaseBytes: 0, CheckpointPosition: null, FallbackPosition: null), options ?? NoRewrite));
        return state;
    }

    [Fact]
    public async Task Each_checkpoint_copies_exactly_the_ids_written_since_the_last_one_and_covers_the_wal_up_to_its_cut()
    {
        CheckpointResult first, second, third;
        await using (var state = Open())
        {
            var checkpointer = state.Checkpointer!;
            await state.WriteAsync(0, "a");
            await state.WriteAsync(1, "b");
            Assert.Equal(2, state.Applier.Writes);
            first = (await checkpointer.CheckpointAsync(CancellationToken.None))!;
            Assert.Equal(0, state.Applier.Writes);
            await state.WriteAsync(2, "c");
            await state.WriteAsync(0, "a2");
            second = (await checkpointer.CheckpointAsync(CancellationToken.None))!;
            third = (await checkpointer.CheckpointAsync(CancellationToken.None))!;

            Assert.Equal([[0, 1], [0, 2], []], state.Cuts);
            Assert.Equal([1L, 2, 3], new[] { first.Sequence, second.Sequence, third.Sequence });
            Assert.Equal([2, 2, 0], new[] { first.RecordsWritten, second.RecordsWritten, third.RecordsWritten });
            Assert.Equal(state.Applier.Wal!.TailPosition, second.WalPosition);
            Assert.Equal(second.WalPosition, third.WalPosition);
            Assert.True(first.WalPosition < second.WalPosition);
            Assert.Equal([first.WalPosition, second.WalPosition, third.WalPosition], state.CompletedPositions);
            Assert.Equal(3, checkpointer.Sequence);
            var newest = CheckpointManifest.ReadVerified(CheckpointManifest.List(CollectionLayout.CheckpointDirectory(_dir))[0].Path);
            Assert.Equal((3L, third.WalPosition, 3L), (newest.Sequence, newest.WalPosition, newest.Documents));
            await state.WriteAsync(3, "d");   // after the last checkpoint: only in the WAL
        }
        var recovered = CollectionRecovery.Open(_dir, "t", wal => new MemoryState(wal), NullLogger.Instance, NoRewrite);
        await using var _ = recovered;
        Assert.Equal(["a2", "b", "c"], recovered.Loaded.Order());
        Assert.Equal(["d"], recovered.Replayed.Select(r => r.Id));
    }

    [Fact]
    public async Task Pruning_keeps_the_newest_two_checkpoints_and_never_truncates_the_wal_without_an_older_generation()
    {
        await using var state = Open(NoRewrite with { KeepWholeWal = false });
        for (var round = 0; round < 4; round++)
        {
            await state.WriteAsync(round, $"r{round}");
            await state.Checkpointer!.CheckpointAsync(CancellationToken.None);
        }
        var checkpoints = CollectionLayout.CheckpointDirectory(_dir);
        Assert.Equal([4L, 3], CheckpointManifest.List(checkpoints).Select(m => m.Sequence));
        var kept = CheckpointManifest.List(checkpoints).Select(m => CheckpointManifest.ReadVerified(m.Path).Token.ToString()).Order().ToArray();
        foreach (var kind in new[] { "index-checkpoints", "cpr-checkpoints" })
        {
            Assert.Equal(kept, Directory.GetDirectories(Path.Combine(checkpoints, kind)).Select(Path.GetFileName).Order());
        }
        // Both kept checkpoints share the store's records: only the WAL can rebuild a damaged one.
        var wal = (FasterLogWal)state.Applier.Wal!;
        Assert.Equal(FasterLogWal.FirstPosition, wal.BeginPosition);
        Assert.Equal([0], CollectionLayout.Generations(_dir));
    }

    [Fact]
    public async Task A_cut_that_fails_half_way_keeps_its_ids_dirty_so_the_next_checkpoint_writes_them()
    {
        await using (var state = Open())
        {
            await state.WriteAsync(0, "a");
            await state.WriteAsync(1, "b");
            await state.WriteAsync(2, "c");
            state.FailNextCut = true;
            await Assert.ThrowsAsync<InvalidOperationException>(() => state.Checkpointer!.CheckpointAsync(CancellationToken.None));
            Assert.Equal(0, state.Checkpointer!.Sequence);
            await state.WriteAsync(3, "d");
            var next = (await state.Checkpointer.CheckpointAsync(CancellationToken.None))!;
            Assert.Equal([0, 1, 2, 3], state.Cuts[^1]);
            Assert.Equal(1, next.Sequence);
        }
        // The checkpoint covers the WAL up to its cut: without the failed cut's ids in it, a, b and c would be gone.
        var recovered = CollectionRecovery.Open(_dir, "t", wal => new MemoryState(wal), NullLogger.Instance, NoRewrite);
        await using var _ = recovered;
        Assert.Equal(["a", "b", "c", "d"], recovered.Loaded.Order());
        Assert.Empty(recovered.Replayed);
    }
}
