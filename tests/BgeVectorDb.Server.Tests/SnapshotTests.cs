using System.Text.Json;
using BgeVectorDb.Cli;
using BgeVectorDb.Common.Beir;
using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Cli;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;

namespace BgeVectorDb.Server.Tests;

/// <summary>Snapshots taken while a stream of writes goes on, restored into a second server (RPC and CLI).</summary>
public sealed class SnapshotTests : IDisposable
{
    private readonly TempDirectory _dir = new("bgevdb-snapshot");

    public SnapshotTests()
    {
        TestData.WriteTinyModels(_dir.Sub("models"));
    }

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string> Settings => ServerSettings.TinyModels(_dir, reranker: "none");

    [Fact]
    public async Task Snapshot_during_ingest_restores_into_a_second_server_with_exactly_the_writes_before_its_checkpoint()
    {
        var corpus = BeirReader.ReadCorpus(SharedData.SciFact).Take(400).ToList();
        var sent = new Dictionary<string, Document>(StringComparer.Ordinal);
        var batches = corpus.Chunk(10).Select((chunk, b) => chunk.Select((c, j) =>
        {
            var n = b * 10 + j;
            var d = DurabilityTests.Doc($"s{n}", $"{n} {(c.FullText.Length > 200 ? c.FullText[..200] : c.FullText)}", n);
            sent[d.Id] = d;
            return d;
        }).ToArray()).ToList();

        CreateSnapshotResponse snapshot;
        var positions = new Dictionary<int, ulong>();
        await using (var a = await ServerProcess.StartAsync(_dir.Sub("a"), Settings))
        {
            await new Collections.CollectionsClient(a.Channel).CreateCollectionAsync(new CreateCollectionRequest { Name = "crash" });
            using var stream = new Documents.DocumentsClient(a.Channel).UpsertStream();
            var firstAcks = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var reader = Task.Run(async () =>
            {
                await foreach (var ack in stream.ResponseStream.ReadAllAsync())
                {
                    positions[(int)ack.BatchId] = ack.WalPosition;
                    if (positions.Count == 5) firstAcks.TrySetResult();
                }
            });
            var writer = Task.Run(async () =>
            {
                for (var b = 0; b < batches.Count; b++)
                {
                    var request = new UpsertRequest { Collection = "crash", BatchId = (ulong)b };
                    request.Documents.AddRange(batches[b]);
                    await stream.RequestStream.WriteAsync(request);
                    // Paced after the first batches, so the ingest outlasts the snapshot's cut (unpaced, all 400 writes
                    // were sometimes acked before the snapshot's checkpoint started).
                    if (b >= 5) await Task.Delay(50);
                }
                await stream.RequestStream.CompleteAsync();
            });
            await Task.WhenAny(firstAcks.Task, reader);
            snapshot = await new Admin.AdminClient(a.Channel).CreateSnapshotAsync(new CreateSnapshotRequest { Collection = "crash" });
            await writer;
            await reader;
            Assert.Equal(batches.Count, positions.Count);
        }
        var expected = positions.Where(p => p.Value < snapshot.WalPosition).SelectMany(p => batches[p.Key]).Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        Assert.InRange(expected.Count, 50, sent.Count - 1);   // taken mid-ingest
        Assert.Equal((ulong)expected.Count, snapshot.Documents);
        Assert.True(File.Exists(Path.Combine(snapshot.Path, "snapshot.json")));

        // A second server restores it under a new name (RPC) and under its own name (CLI).
        await using var b2 = await ServerProcess.StartAsync(_dir.Sub("b"), Settings);
        var restored = await new Admin.AdminClient(b2.Channel).RestoreSnapshotAsync(new RestoreSnapshotRequest { Path = snapshot.Path, Collection = "copy" });
        Assert.Equal("copy", restored.Collection);
        Assert.Equal((ulong)expected.Count, restored.Documents);
        var cli = await CliRun.RunAsync("snapshot", "restore", snapshot.Path, "--server", b2.Address, "--json");
        Assert.True(cli.ExitCode == CliApp.ExitOk, cli.ToString());
        Assert.Equal("crash", JsonDocument.Parse(cli.Stdout).RootElement.GetProperty("collection").GetString());
        await RpcAssert.FailsAsync(StatusCode.AlreadyExists, async () =>
            await new Admin.AdminClient(b2.Channel).RestoreSnapshotAsync(new RestoreSnapshotRequest { Path = snapshot.Path, Collection = "copy" }));

        var get = new GetDocumentsRequest { Collection = "copy", Fields = new ReturnFields { Text = true, Metadata = true } };
        get.Ids.AddRange(sent.Keys);
        var response = await new Documents.DocumentsClient(b2.Channel).GetDocumentsAsync(get);
        Assert.Equal(expected.Order(StringComparer.Ordinal), response.Documents.Select(d => d.Id).Order(StringComparer.Ordinal));
        foreach (var d in response.Documents)
        {
            Assert.Equal(sent[d.Id].Text, d.Text);
            Assert.Equal(sent[d.Id].Metadata, d.Metadata);
        }
        // The restored collection takes writes and keeps them across a restart.
        var more = new UpsertRequest { Collection = "copy" };
        more.Documents.Add(DurabilityTests.Doc("after-restore", "written after the restore", -1));
        await new Documents.DocumentsClient(b2.Channel).UpsertAsync(more);
        b2.Kill();
        await using var b3 = await ServerProcess.StartAsync(_dir.Sub("b"), Settings);
        var info = await new Collections.CollectionsClient(b3.Channel).GetCollectionAsync(new GetCollectionRequest { Name = "copy" });
        Assert.Equal((ulong)expected.Count + 1, info.DocumentCount);
    }

    [Fact]
    public async Task Cli_snapshot_create_prints_the_path_and_a_corrupt_snapshot_is_refused()
    {
        await using var a = await ServerProcess.StartAsync(_dir.Sub("a"), Settings);
        await new Collections.CollectionsClient(a.Channel).CreateCollectionAsync(new CreateCollectionRequest { Name = "c" });
        var request = new UpsertRequest { Collection = "c" };
        for (var i = 0; i < 5; i++) request.Documents.Add(DurabilityTests.Doc($"c{i}", $"text {i}", i));
        await new Documents.DocumentsClient(a.Channel).UpsertAsync(request);
        var run = await CliRun.RunAsync("snapshot", "create", "c", "--server", a.Address, "--json");
        Assert.True(run.ExitCode == CliApp.ExitOk, run.ToString());
        var root = JsonDocument.Parse(run.Stdout).RootElement;
        var path = root.GetProperty("path").GetString()!;
        Assert.Equal("5", root.GetProperty("documents").ToString());
        var victim = Directory.GetFiles(Path.Combine(path, "store"), "*", SearchOption.AllDirectories)[0];
        var bytes = File.ReadAllBytes(victim);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(victim, bytes);
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await new Admin.AdminClient(a.Channel).RestoreSnapshotAsync(new RestoreSnapshotRequest { Path = path, Collection = "d" }), "path");
        Assert.Contains("corrupt", ex.Status.Detail, StringComparison.Ordinal);
    }
}
