using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;

namespace BgeVectorDb.Server.Tests;

/// <summary>Storage behaviour seen through a real server (vectors-only collections, no models): stats,
/// deletes racing writes, restores next to live collections.</summary>
public sealed class StorageServerTests() : TempServer("bgevdb-storage")
{
    private const int Dim = 8;
    private static readonly (string, string)[] NoCheckpointTimers = [("Storage:CheckpointIntervalSeconds", "0"), ("Storage:CheckpointEveryWrites", "0")];

    internal static readonly Dictionary<string, string> NoModels = ServerSettings.NoModels(NoCheckpointTimers);

    protected override IReadOnlyDictionary<string, string> Settings => NoModels;

    private Collections.CollectionsClient CollectionsClient => new(Server.Channel);
    private Documents.DocumentsClient DocumentsClient => new(Server.Channel);
    private Admin.AdminClient AdminClient => new(Server.Channel);

    private string CollectionFolder(string name) => Path.Combine(Dir.Sub("data"), "collections", name);

    internal static async Task CreateAsync(Collections.CollectionsClient client, string name) =>
        await client.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = name,
            Config = new CollectionConfig { EmbeddingModel = "none", Dimension = Dim },
        });

    internal static UpsertRequest Batch(string collection, int from, int count, ulong batchId = 0)
    {
        var request = new UpsertRequest { Collection = collection, BatchId = batchId };
        for (var i = from; i < from + count; i++)
        {
            var d = new Document { Id = $"d{i}", Text = $"text {i}" };
            var rng = new Random(i);
            for (var k = 0; k < Dim; k++) d.Vector.Add((float)(rng.NextDouble() * 2 - 1));
            request.Documents.Add(d);
        }
        return request;
    }

    [Fact]
    public async Task Stats_report_the_checkpoint_wal_position_and_the_bytes_of_every_file_of_the_collection()
    {
        await CreateAsync(CollectionsClient, "st");
        await DocumentsClient.UpsertAsync(Batch("st", 0, 50));
        var stats = await CollectionsClient.GetCollectionStatsAsync(new GetCollectionStatsRequest { Name = "st" });
        Assert.Equal(0ul, stats.CheckpointWalPosition);
        await AdminClient.CheckpointAsync(new CheckpointRequest { Collection = "st" });
        stats = await CollectionsClient.GetCollectionStatsAsync(new GetCollectionStatsRequest { Name = "st" });
        Assert.True(stats.WalTailPosition > 0);
        Assert.Equal(stats.WalTailPosition, stats.CheckpointWalPosition);
        var files = Directory.GetFiles(CollectionFolder("st"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.Equal((ulong)files, stats.DiskBytes);
        var store = Directory.GetFiles(Path.Combine(CollectionFolder("st"), "store"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.True(store > 0 && stats.DiskBytes > (ulong)store, $"disk {stats.DiskBytes}, store {store}");
    }

    [Fact]
    public async Task Delete_and_recreate_of_one_name_over_grpc_keeps_the_new_collections_acked_writes_across_a_kill()
    {
        for (var trial = 0; trial < 3; trial++)
        {
            var name = $"re{trial}";
            await CreateAsync(CollectionsClient, name);
            for (var b = 0; b < 6; b++) await DocumentsClient.UpsertAsync(Batch(name, b * 50, 50));
            await AdminClient.CheckpointAsync(new CheckpointRequest { Collection = name });
            var delete = CollectionsClient.DeleteCollectionAsync(new DeleteCollectionRequest { Name = name }).ResponseAsync;
            while (true)
            {
                try
                {
                    await CreateAsync(CollectionsClient, name);
                    break;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
                {
                    await Task.Yield();   // the delete has not started yet: retry
                }
            }
            await DocumentsClient.UpsertAsync(Batch(name, 1000, 7));
            Assert.True((await delete).Deleted);
        }
        Server.Kill();
        await RestartAsync();
        for (var trial = 0; trial < 3; trial++)
        {
            var info = await CollectionsClient.GetCollectionAsync(new GetCollectionRequest { Name = $"re{trial}" });
            Assert.Equal(7ul, info.DocumentCount);
        }
        Assert.DoesNotContain(Directory.GetDirectories(Path.Combine(Dir.Sub("data"), "collections")), d => Path.GetFileName(d).StartsWith('.'));
    }

    /// <summary>Rounds, and streams per round, of the delete-during-streaming test: raise them to hunt races, e.g.
    /// BGE_STREAM_DELETE_ROUNDS=80 BGE_STREAM_DELETE_STREAMS=4 under CPU load. Rounds share one connection, and Kestrel
    /// tracks a stream it ended while the client still sends for a 5 s drain: past 200 tracked streams it refuses new
    /// ones (ENHANCE_YOUR_CALM, RESOURCE_EXHAUSTED), which 20 rounds of 12 streams can reach.</summary>
    private static int EnvCount(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var n) && n > 0 ? n : fallback;

    [Fact]
    public async Task Deleting_a_collection_during_streaming_ingests_ends_every_stream_with_not_found()
    {
        // Text documents: each batch spends a while in the embedder, where the delete catches it. Kestrel logs HTTP/2
        // connection errors at Debug: one (e.g. a client's DATA frame after its own RST_STREAM) closes the connection
        // and fails every other call on it with INTERNAL "STREAM_CLOSED", whichever call happens to be in flight.
        TestData.WriteTinyModels(ModelsFolder);
        await RestartAsync(ServerSettings.TinyModels(Dir, reranker: "none", [.. NoCheckpointTimers, ("Logging:LogLevel:Microsoft.AspNetCore.Server.Kestrel.Http2", "Debug")]));
        var text = string.Join(' ', Enumerable.Range(0, 60).Select(i => $"word{i}"));
        var streamCount = EnvCount("BGE_STREAM_DELETE_STREAMS", 4);
        for (var round = 0; round < EnvCount("BGE_STREAM_DELETE_ROUNDS", 1); round++)
        {
            var name = $"streamed{round}";
            await CollectionsClient.CreateCollectionAsync(new CreateCollectionRequest { Name = name });
            var acks = 0;
            var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            async Task Stream(int s)
            {
                using var stream = DocumentsClient.UpsertStream();
                var writer = Task.Run(async () =>
                {
                    try
                    {
                        for (var b = 0; b < 100_000; b++)
                        {
                            var request = new UpsertRequest { Collection = name, BatchId = (ulong)b };
                            for (var i = 0; i < 8; i++) request.Documents.Add(new Document { Id = $"s{s}-{b}-{i}", Text = $"{b} {i} {text}" });
                            await stream.RequestStream.WriteAsync(request);
                        }
                    }
                    catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
                    {
                        // the server ended the call
                    }
                });
                await foreach (var ack in stream.ResponseStream.ReadAllAsync())
                {
                    if (Interlocked.Increment(ref acks) == 12) enough.TrySetResult();
                }
                await writer;
            }
            var streams = Enumerable.Range(0, streamCount).Select(s => Task.Run(() => Stream(s))).ToArray();
            await enough.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True((await CollectionsClient.DeleteCollectionAsync(new DeleteCollectionRequest { Name = name })).Deleted);
            foreach (var stream in streams)
            {
                var ex = await RpcAssert.FailsAsync(StatusCode.NotFound, () => stream.WaitAsync(TimeSpan.FromSeconds(60)));
                Assert.Contains($"'{name}'", ex.Status.Detail, StringComparison.Ordinal);
            }
        }
        Assert.DoesNotContain("ObjectDisposedException", Server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP/2 connection error", Server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restoring_a_snapshot_with_an_unlisted_file_is_invalid_argument_naming_it_and_leaves_no_restoring_folder()
    {
        await CreateAsync(CollectionsClient, "snap");
        await DocumentsClient.UpsertAsync(Batch("snap", 0, 30));
        var snapshot = await AdminClient.CreateSnapshotAsync(new CreateSnapshotRequest { Collection = "snap" });
        File.Copy(CheckpointManifestOf(snapshot.Path), Path.Combine(snapshot.Path, "checkpoints", "manifest-0000000777"));
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await AdminClient.RestoreSnapshotAsync(new RestoreSnapshotRequest { Path = snapshot.Path, Collection = "snap2" }), "path");
        Assert.Contains("checkpoints/manifest-0000000777", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(["snap"], Directory.GetFileSystemEntries(Path.Combine(Dir.Sub("data"), "collections")).Select(Path.GetFileName));
        await RpcAssert.FailsAsync(StatusCode.NotFound, async () => await CollectionsClient.GetCollectionAsync(new GetCollectionRequest { Name = "snap2" }));
    }

    private static string CheckpointManifestOf(string snapshot) =>
        Directory.GetFiles(Path.Combine(snapshot, "checkpoints"), "manifest-*").Single();
}
