using BgeVectorDb.Core.Index.Hnsw;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary><see cref="CollectionRecovery"/> on a real folder (FasterLog + FasterKV), recovered into a <see cref="MemoryState"/>
/// that records what it is given: which checkpoint is loaded and exactly which WAL entries are replayed.</summary>
public sealed class CollectionRecoveryTests : IDisposable
{
    private readonly TempDirectory _temp = new("bgevdb-recovery", create: false);

    private string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    /// <summary>Appends one delete entry per id; returns each entry's position.</summary>
    private static async Task<long[]> AppendAsync(IWriteAheadLog wal, params string[] ids)
    {
        var positions = new long[ids.Length];
        for (var i = 0; i < ids.Length; i++) positions[i] = await wal.AppendAsync(new DeleteEntry([ids[i]]));
        return positions;
    }

    /// <summary>Writes checkpoint <paramref name="sequence"/> covering the WAL before <paramref name="walPosition"/>,
    /// holding documents <paramref name="documents"/> (the way a collection's checkpoint writes them).</summary>
    private async Task CheckpointAsync(long sequence, long walPosition, params string[] documents)
    {
        var storeDir = CollectionLayout.StoreDirectory(_dir);
        var checkpointDir = CollectionLayout.CheckpointDirectory(_dir);
        var index = new HnswIndex(2, DistanceKind.Cosine);
        using var store = sequence == 1 ? CollectionStore.Create(storeDir, checkpointDir) : RecoverLatest(storeDir, checkpointDir);
        using (var writer = store.BeginWrite())
        {
            for (var i = 0; i < documents.Length; i++) writer.PutDocument(i, documents[i], "text " + documents[i], Document.NoMetadata);
            writer.PutMeta(new MetaRecord(index.ExportState(), walPosition, documents.Length, 0, documents.Length, []));
        }
        var token = await store.CheckpointAsync();
        new CheckpointManifest(sequence, token, walPosition, documents.Length, 0, CheckpointManifest.HashFiles(checkpointDir, token)).Write(checkpointDir);
    }

    private static CollectionStore RecoverLatest(string storeDir, string checkpointDir) =>
        CollectionStore.Recover(storeDir, checkpointDir, CheckpointManifest.ReadVerified(CheckpointManifest.List(checkpointDir)[0].Path).Token);

    private MemoryState Recover() => CollectionRecovery.Open(_dir, "t", wal => new MemoryState(wal), NullLogger.Instance, CheckpointerTests.NoRewrite);

    [Fact]
    public async Task Recovery_loads_the_checkpoint_and_replays_exactly_the_wal_entries_at_and_after_its_position()
    {
        await using (var wal = FasterLogWal.Open(CollectionLayout.WalDirectory(_dir)))
        {
            var before = await AppendAsync(wal, "w0", "w1", "w2");
            await CheckpointAsync(1, wal.TailPosition, "a", "b");
            var after = await AppendAsync(wal, "w3", "w4");
            Assert.True(after[0] > before[^1]);
        }
        var state = Recover();
        await using var _ = state;
        Assert.Equal(["a", "b"], state.Loaded);
        // Replayed with the checkpointer attached, so the replayed writes go into the next checkpoint.
        Assert.Equal([("w3", true), ("w4", true)], state.Replayed);
        Assert.Equal(1, state.Checkpointer!.Sequence);
        Assert.Equal(2, state.Documents);
    }

    [Fact]
    public async Task A_damaged_newest_checkpoint_falls_back_to_the_older_one_and_replays_from_its_position()
    {
        await using (var wal = FasterLogWal.Open(CollectionLayout.WalDirectory(_dir)))
        {
            await AppendAsync(wal, "w0");
            await CheckpointAsync(1, wal.TailPosition, "a");
            await AppendAsync(wal, "w1", "w2");
            await CheckpointAsync(2, wal.TailPosition, "a", "b", "c");
            await AppendAsync(wal, "w3");
        }
        var newest = CheckpointManifest.List(CollectionLayout.CheckpointDirectory(_dir))[0].Path;
        var bytes = File.ReadAllBytes(newest);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(newest, bytes);

        var state = Recover();
        await using var _ = state;
        Assert.Equal(["a"], state.Loaded);
        Assert.Equal(["w1", "w2", "w3"], state.Replayed.Select(r => r.Id));
        Assert.Equal(1, state.Checkpointer!.Sequence);
    }

    [Fact]
    public async Task Without_a_checkpoint_the_whole_wal_is_replayed_into_a_fresh_store()
    {
        await using (var wal = FasterLogWal.Open(CollectionLayout.WalDirectory(_dir)))
        {
            await AppendAsync(wal, "w0", "w1");
        }
        var state = Recover();
        await using var _ = state;
        Assert.Empty(state.Loaded);
        Assert.Equal(["w0", "w1"], state.Replayed.Select(r => r.Id));
        Assert.Equal(0, state.Checkpointer!.Sequence);
        Assert.NotNull(state.Checkpointer.Store);
    }

    [Fact]
    public async Task Without_a_usable_checkpoint_a_truncated_wal_is_refused_and_left_as_it_was()
    {
        await using (var wal = FasterLogWal.Open(CollectionLayout.WalDirectory(_dir)))
        {
            await AppendAsync(wal, "w0", "w1");
            var cut = wal.TailPosition;
            await AppendAsync(wal, "w2");
            await wal.TruncateBeforeAsync(cut);
            Assert.True(wal.Truncated);
        }
        var created = 0;
        var ex = Assert.Throws<InvalidDataException>(() => CollectionRecovery.Open(_dir, "t", wal => { created++; return new MemoryState(wal); }, NullLogger.Instance, CheckpointerTests.NoRewrite));
        Assert.Contains("no checkpoint manifest found", ex.Message);
        Assert.Contains("was truncated", ex.Message);
        Assert.Equal(0, created);
        // The WAL was closed again: it reopens (FasterLog holds a lock on an open log's files) with its entries.
        await using var reopened = FasterLogWal.Open(CollectionLayout.WalDirectory(_dir));
        Assert.Equal(["w2"], reopened.ReadAll().Select(e => ((DeleteEntry)e.Entry).Ids[0]));
    }
}
