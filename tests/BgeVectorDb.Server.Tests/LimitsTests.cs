using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;

namespace BgeVectorDb.Server.Tests;

/// <summary>Every configurable request limit, each over real gRPC: INVALID_ARGUMENT naming the limit and
/// its configured value; and deadlines ending calls on the server.</summary>
public sealed class LimitsTests() : TempServer("bgevdb-limits")
{
    private const int Dim = 4;
    private const int MessageLimit = 64 * 1024;

    protected override IReadOnlyDictionary<string, string> Settings => ServerSettings.NoModels(
        ("Server:MaxReceiveMessageBytes", MessageLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Limits:MaxBatchSize", "5"),
        ("Limits:MaxTextLength", "100"),
        ("Limits:MaxQueryLength", "50"),
        ("Limits:MaxK", "20"),
        ("Limits:MaxCandidates", "40"));

    protected override async Task SeedAsync() =>
        await new Collections.CollectionsClient(Server.Channel).CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = "lim",
            Config = new CollectionConfig { EmbeddingModel = "none", RerankerModel = "none", Dimension = Dim },
        });

    private Documents.DocumentsClient DocumentsClient => new(Server.Channel);
    private Search.SearchClient SearchClient => new(Server.Channel);

    private static Document Doc(string id, string text = "", int dim = Dim)
    {
        var d = new Document { Id = id, Text = text };
        d.Vector.AddRange(Enumerable.Range(0, dim).Select(i => 1f + i));
        return d;
    }

    private static UpsertRequest Batch(int count) => new() { Collection = "lim", Documents = { Enumerable.Range(0, count).Select(i => Doc($"b{i}")) } };

    private static SearchByVectorRequest VectorQuery(int k, int candidates = 0) =>
        new() { Collection = "lim", Vector = { 1f, 0f, 0f, 0f }, Options = new SearchOptions { K = k, Candidates = candidates } };

    [Fact]
    public async Task Batch_size_limit()
    {
        Assert.Equal(5u, (await DocumentsClient.UpsertAsync(Batch(5))).Upserted);
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await DocumentsClient.UpsertAsync(Batch(6)), "documents");
        Assert.Contains("max_batch_size=5 (Limits:MaxBatchSize)", ex.Status.Detail);

        // Same limit on the stream: the first batch is acked, the oversized one ends the call.
        using var stream = DocumentsClient.UpsertStream();
        await stream.RequestStream.WriteAsync(Batch(2));
        Assert.True(await stream.ResponseStream.MoveNext());
        await stream.RequestStream.WriteAsync(Batch(6));
        var streamed = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await stream.ResponseStream.MoveNext(), "documents");
        Assert.Contains("max_batch_size=5", streamed.Status.Detail);
    }

    [Fact]
    public async Task Text_length_limit()
    {
        Assert.Equal(1u, (await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "lim", Documents = { Doc("t100", new string('a', 100)) } })).Upserted);
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "lim", Documents = { Doc("t101", new string('a', 101)) } }), "documents[0].text");
        Assert.Contains("max_text_length=100", ex.Status.Detail);
    }

    [Fact]
    public async Task Query_length_k_and_candidates_limits()
    {
        await DocumentsClient.UpsertAsync(Batch(5));
        var query = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await SearchClient.SearchAsync(new SearchRequest { Collection = "lim", Query = new string('q', 51), Options = new SearchOptions { K = 1 } }), "query");
        Assert.Contains("max_query_length=50", query.Status.Detail);

        Assert.Equal(5, (await SearchClient.SearchByVectorAsync(VectorQuery(20, 40))).Hits.Count);
        var k = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await SearchClient.SearchByVectorAsync(VectorQuery(21)), "options.k");
        Assert.Contains("max_k=20 (Limits:MaxK)", k.Status.Detail);
        var candidates = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await SearchClient.SearchByVectorAsync(VectorQuery(5, 41)), "options.candidates");
        Assert.Contains("max_candidates=40", candidates.Status.Detail);
        var byDoc = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await SearchClient.SearchByDocumentAsync(new SearchByDocumentRequest { Collection = "lim", Id = "b0", Options = new SearchOptions { K = 21 } }), "options.k");
        Assert.Contains("max_k=20", byDoc.Status.Detail);
    }

    [Fact]
    public async Task Message_size_limit()
    {
        // About 80 KB: over the 64 KiB limit, under the transport's hard cap (twice the limit).
        var big = new UpsertRequest { Collection = "lim", Documents = { Doc("big", dim: 20_000) } };
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await DocumentsClient.UpsertAsync(big));
        Assert.Contains($"max_message_bytes={MessageLimit}", ex.Status.Detail);

        using (var stream = DocumentsClient.UpsertStream())
        {
            await stream.RequestStream.WriteAsync(big);
            var streamed = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await stream.ResponseStream.MoveNext());
            Assert.Contains($"max_message_bytes={MessageLimit}", streamed.Status.Detail);
        }

        // Past the hard cap gRPC stops reading: RESOURCE_EXHAUSTED.
        var huge = new UpsertRequest { Collection = "lim", Documents = { Doc("huge", dim: 40_000) } };
        await RpcAssert.FailsAsync(StatusCode.ResourceExhausted, async () => await DocumentsClient.UpsertAsync(huge));

        // A request under the limit still works.
        Assert.Equal(1u, (await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "lim", Documents = { Doc("small") } })).Upserted);
    }

    [Fact]
    public async Task Deadline_ends_an_idle_stream_on_the_server()
    {
        // Generous enough for the first ack on a loaded machine (the whole suite runs in parallel).
        using var stream = DocumentsClient.UpsertStream(deadline: DateTime.UtcNow.AddSeconds(6));
        await stream.RequestStream.WriteAsync(Batch(1));
        Assert.True(await stream.ResponseStream.MoveNext());
        // The client now sends nothing; the server must end the call when the deadline passes.
        await RpcAssert.FailsAsync(StatusCode.DeadlineExceeded, async () => await stream.ResponseStream.MoveNext());

        // The server saw it too: its own count of UpsertStream calls ended by the deadline.
        double ended = 0;
        for (var i = 0; i < 50 && ended == 0; i++)
        {
            var scrape = await Scrape.FromAsync(Server.MetricsAddress);
            ended = scrape.Sum("bgevdb_requests_total", ("rpc", "bgevectordb.v1.Documents/UpsertStream"), ("code", "DEADLINE_EXCEEDED"))
                + scrape.Sum("bgevdb_requests_total", ("rpc", "bgevectordb.v1.Documents/UpsertStream"), ("code", "CANCELLED"));
            if (ended == 0) await Task.Delay(100);
        }
        // A client reset at its deadline is not an internal error (it was logged as one before).
        Assert.DoesNotContain("Unhandled error", Server.Output);
        var final = await Scrape.FromAsync(Server.MetricsAddress);
        Assert.True(ended == 1, string.Join("\n", final.Samples.Where(s => s.Name == "bgevdb_requests_total").Select(s => $"{string.Join(",", s.Labels)} {s.Value}")) + "\n" + Server.Output);
    }
}
