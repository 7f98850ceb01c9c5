using BgeVectorDb.Common.Beir;
using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;
using Xunit.Abstractions;

namespace BgeVectorDb.Server.Tests;

/// <summary>Real server processes killed with SIGKILL at seeded random moments during a client-streaming
/// ingest, restarted on the same files. BGE_CRASH_TRIALS sets the number of trials (default 3; the full
/// run uses 20).</summary>
public sealed class DurabilityTests : IDisposable
{
    private readonly TempDirectory _dir = new("bgevdb-durability");
    private readonly ITestOutputHelper _output;

    public DurabilityTests(ITestOutputHelper output)
    {
        _output = output;
        TestData.WriteTinyModels(ModelsFolder);
    }

    public void Dispose() => _dir.Dispose();

    private string ModelsFolder => _dir.Sub("models");

    private Dictionary<string, string> Settings(int checkpointEveryWrites = 150) => ServerSettings.TinyModels(_dir, reranker: "none",
        ("Storage:CheckpointEveryWrites", checkpointEveryWrites.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Storage:CheckpointIntervalSeconds", "1"));

    internal static int Trials => int.TryParse(Environment.GetEnvironmentVariable("BGE_CRASH_TRIALS"), out var n) && n > 0 ? n : 3;

    internal static Document Doc(string id, string text, int n)
    {
        var d = new Document { Id = id, Text = text };
        d.Metadata["n"] = new Value { IntValue = n };
        d.Metadata["src"] = new Value { StringValue = "crash-" + id };
        return d;
    }

    /// <summary>Streams batches until the call fails (the server was killed) or all are sent; returns the
    /// ids of acked batches. <paramref name="acks"/> is completed once <paramref name="signalAfterAcks"/> batches were acked.</summary>
    internal static async Task<HashSet<string>> IngestUntilKilledAsync(GrpcChannelHolder channel, string collection, IReadOnlyList<Document[]> batches,
        TaskCompletionSource? acks = null, int signalAfterAcks = 1)
    {
        var ackedBatches = 0;
        var acked = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var stream = new Documents.DocumentsClient(channel.Channel).UpsertStream();
            var writer = Task.Run(async () =>
            {
                for (var i = 0; i < batches.Count; i++)
                {
                    var request = new UpsertRequest { Collection = collection, BatchId = (ulong)i };
                    request.Documents.AddRange(batches[i]);
                    await stream.RequestStream.WriteAsync(request);
                }
                await stream.RequestStream.CompleteAsync();
            });
            await foreach (var ack in stream.ResponseStream.ReadAllAsync())
            {
                foreach (var d in batches[(int)ack.BatchId]) acked.Add(d.Id);
                if (++ackedBatches >= signalAfterAcks) acks?.TrySetResult();
            }
            await writer;
        }
        catch (Exception ex) when (ex is RpcException or IOException or InvalidOperationException)
        {
            // The server died under us: what was acked must have survived.
        }
        return acked;
    }

    [Fact]
    public async Task Kill_9_during_streaming_ingest_loses_no_acked_document_and_invents_none()
    {
        var corpus = BeirReader.ReadCorpus(SharedData.SciFact).Take(3000).ToList();
        var data = _dir.Sub("data");
        var sent = new Dictionary<string, Document>(StringComparer.Ordinal);
        var ackedAll = new HashSet<string>(StringComparer.Ordinal);
        var next = 0;
        var interrupted = 0;
        for (var trial = 0; trial < Trials; trial++)
        {
            var rng = new Random(4242 + trial);
            var server = await ServerProcess.StartAsync(data, Settings());
            try
            {
                if (trial == 0)
                {
                    await new Collections.CollectionsClient(server.Channel).CreateCollectionAsync(new CreateCollectionRequest { Name = "crash" });
                }
                var batches = new List<Document[]>();
                for (var b = 0; b < 40; b++)
                {
                    var batch = new Document[10];
                    for (var j = 0; j < batch.Length; j++, next++)
                    {
                        var source = corpus[next % corpus.Count];
                        var text = source.FullText.Length > 300 ? source.FullText[..300] : source.FullText;
                        batch[j] = Doc($"t{trial}-{next}", $"{next} {text}", next);
                        sent[batch[j].Id] = batch[j];
                    }
                    batches.Add(batch);
                }
                // Kill at a seeded random moment of the ingest: right after a seeded number of acks (the first batch
                // also warms the model up), plus up to 20 ms. (A random delay after the first ack was too late once
                // ingest got faster: all 400 documents were acked within a second.)
                var killAfterAcks = rng.Next(1, batches.Count - 4);
                var killAfter = TimeSpan.FromMilliseconds(rng.Next(0, 20));
                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var ingest = IngestUntilKilledAsync(new GrpcChannelHolder(server.Channel), "crash", batches, reached, killAfterAcks);
                await Task.WhenAny(reached.Task, ingest, Task.Delay(TimeSpan.FromSeconds(60)));
                await Task.WhenAny(ingest, Task.Delay(killAfter));
                server.Kill();
                var acked = await ingest;
                interrupted += acked.Count < batches.Count * 10 ? 1 : 0;
                _output.WriteLine($"trial {trial}: killed {killAfter.TotalMilliseconds} ms after ack {killAfterAcks}, {acked.Count} of {batches.Count * 10} documents acked");
                ackedAll.UnionWith(acked);
            }
            finally
            {
                await server.DisposeAsync();
            }

            await using var restarted = await ServerProcess.StartAsync(data, Settings());
            await VerifyAsync(restarted, sent, ackedAll, $"trial {trial} (seed {4242 + trial})");
            await restarted.StopAsync(TimeSpan.FromSeconds(60));
        }
        Assert.True(ackedAll.Count > 0, "no batch was acked in any trial: kill times too early");
        Assert.True(interrupted > 0, "no trial was killed mid-ingest: kill times too late");
    }

    /// <summary>Every acked document is there with identical text and metadata, found by vector and by
    /// text; every document there was sent; the count matches.</summary>
    internal static async Task VerifyAsync(ServerProcess server, IReadOnlyDictionary<string, Document> sent, IReadOnlySet<string> acked, string label)
    {
        var documents = new Documents.DocumentsClient(server.Channel);
        var search = new Search.SearchClient(server.Channel);
        var get = new GetDocumentsRequest { Collection = "crash", Fields = new ReturnFields { Text = true, Metadata = true, Vector = true } };
        get.Ids.AddRange(sent.Keys);
        var response = await documents.GetDocumentsAsync(get);
        var found = response.Documents.ToDictionary(d => d.Id, StringComparer.Ordinal);
        foreach (var id in acked)
        {
            Assert.True(found.TryGetValue(id, out var d), $"{label}: acked document {id} is missing\n{server.Output}");
            Assert.Equal(sent[id].Text, d!.Text);
            Assert.Equal(sent[id].Metadata, d.Metadata);
        }
        var info = await new Collections.CollectionsClient(server.Channel).GetCollectionAsync(new GetCollectionRequest { Name = "crash" });
        Assert.Equal((ulong)found.Count, info.DocumentCount);   // nothing that was never sent
        var rng = new Random(label.Length);
        foreach (var id in acked.Order(StringComparer.Ordinal).Where(_ => rng.Next(10) == 0).Take(15))
        {
            var byVector = new SearchByVectorRequest { Collection = "crash", Options = new SearchOptions { K = 1 } };
            byVector.Vector.AddRange(found[id].Vector);
            Assert.Equal(id, (await search.SearchByVectorAsync(byVector)).Hits[0].Id);
            var byText = await search.SearchAsync(new SearchRequest
            {
                Collection = "crash", Query = sent[id].Text, QueryInstruction = "", Rerank = false, Options = new SearchOptions { K = 3 },
            });
            Assert.Equal(id, byText.Hits[0].Id);
        }
    }

    [Fact]
    public async Task Graceful_shutdown_then_restart_replays_nothing()
    {
        var data = _dir.Sub("data");
        await using (var server = await ServerProcess.StartAsync(data, Settings(checkpointEveryWrites: 0)))
        {
            await new Collections.CollectionsClient(server.Channel).CreateCollectionAsync(new CreateCollectionRequest { Name = "g" });
            var request = new UpsertRequest { Collection = "g" };
            for (var i = 0; i < 30; i++) request.Documents.Add(Doc($"g{i}", $"graceful text number {i}", i));
            await new Documents.DocumentsClient(server.Channel).UpsertAsync(request);
            Assert.Equal(0, await server.StopAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("(shutdown)", server.Output, StringComparison.Ordinal);
        }
        await using var restarted = await ServerProcess.StartAsync(data, Settings());
        Assert.Contains("Recovered collection g: replayed 0 log entries, 30 documents", restarted.Output, StringComparison.Ordinal);
        var info = await new Collections.CollectionsClient(restarted.Channel).GetCollectionAsync(new GetCollectionRequest { Name = "g" });
        Assert.Equal(30ul, info.DocumentCount);
    }

    [Fact]
    public async Task Unrecoverable_collection_is_refused_with_data_loss_while_the_server_serves_the_rest()
    {
        var data = _dir.Sub("data");
        // Store rewrites due at once (one-byte threshold): the second one truncates the WAL behind the first, so damaged
        // manifests in both generations leave nothing to recover from.
        await using (var server = await ServerProcess.StartAsync(data, new Dictionary<string, string>(Settings(checkpointEveryWrites: 0)) { ["Storage:StoreRewriteWalBytes"] = "1", ["Storage:CheckpointIntervalSeconds"] = "0" }))
        {
            var collections = new Collections.CollectionsClient(server.Channel);
            var documents = new Documents.DocumentsClient(server.Channel);
            var admin = new Admin.AdminClient(server.Channel);
            foreach (var name in new[] { "bad", "good" })
            {
                await collections.CreateCollectionAsync(new CreateCollectionRequest { Name = name });
                var request = new UpsertRequest { Collection = name };
                for (var i = 0; i < 10; i++) request.Documents.Add(Doc($"{name}{i}", $"{name} text {i}", i));
                await documents.UpsertAsync(request);
            }
            Assert.Equal(["bad"], (await admin.CheckpointAsync(new CheckpointRequest { Collection = "bad" })).Collections);
            for (var round = 0; round < 3; round++)   // more WAL than the store holds: the next checkpoint rewrites it
            {
                var again = new UpsertRequest { Collection = "bad" };
                for (var i = 0; i < 10; i++) again.Documents.Add(Doc($"bad{i}", $"bad text {i} round {round}", i));
                await documents.UpsertAsync(again);
            }
            Assert.Equal(["bad"], (await admin.CheckpointAsync(new CheckpointRequest { Collection = "bad" })).Collections);
            server.Kill();
        }
        // The second checkpoint rewrote the store as generation 2 (the first as generation 1); generation 0 is gone.
        Assert.Equal(["gen-000001", "gen-000002"], Directory.GetDirectories(Path.Combine(data, "collections", "bad"), "gen-*").Select(Path.GetFileName).Order());
        var manifests = Directory.GetFiles(Path.Combine(data, "collections", "bad"), "manifest-*", SearchOption.AllDirectories);
        Assert.Equal(2, manifests.Length);
        foreach (var manifest in manifests) File.WriteAllText(manifest, "garbage");

        await using var restarted = await ServerProcess.StartAsync(data, Settings());
        var client = new Collections.CollectionsClient(restarted.Channel);
        Assert.Equal(10ul, (await client.GetCollectionAsync(new GetCollectionRequest { Name = "good" })).DocumentCount);
        var ex = await RpcAssert.FailsAsync(StatusCode.DataLoss, async () => await client.GetCollectionAsync(new GetCollectionRequest { Name = "bad" }));
        Assert.Contains("could not be recovered", ex.Status.Detail, StringComparison.Ordinal);
        await RpcAssert.FailsAsync(StatusCode.DataLoss, async () =>
            await new Documents.DocumentsClient(restarted.Channel).GetDocumentsAsync(new GetDocumentsRequest { Collection = "bad", Ids = { "bad1" } }));
        Assert.Contains("cannot be recovered and stays offline", restarted.Output, StringComparison.Ordinal);
    }
}

/// <summary>Lets a helper take the channel without depending on the process object.</summary>
internal sealed record GrpcChannelHolder(Grpc.Net.Client.GrpcChannel Channel);
