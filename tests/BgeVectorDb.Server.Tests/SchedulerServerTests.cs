using System.Diagnostics;
using System.Text.RegularExpressions;
using BgeVectorDb.Common.Beir;
using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;

namespace BgeVectorDb.Server.Tests;

/// <summary>A real server with the tiny synthetic models, a small inference queue bound and a collection of 300
/// SciFact documents: reranking all 300 as candidates costs about 100k tokens, so three such searches pass the queue bound.</summary>
public sealed class BoundedQueueServerFixture() : TempServer("bgevdb-sched", tinyModels: true)
{
    public const long MaxQueuedTokens = 250_000;
    public const int DocumentCount = 300;
    public const string Collection = "scifact";

    public string Query { get; private set; } = "";

    protected override IReadOnlyDictionary<string, string> Settings => ServerSettings.TinyModels(Dir, TestData.RerankerModelId,
        ("Inference:ExecutionProvider", "cpu"),
        ("Inference:MaxQueuedTokens", MaxQueuedTokens.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        // The reranker's scheduler logs each admitted request and what a cancelled one released.
        ("Logging:LogLevel:BgeVectorDb.Core.Reranking.CrossEncoderReranker", "Debug"));

    protected override async Task SeedAsync()
    {
        await new Collections.CollectionsClient(Server.Channel).CreateCollectionAsync(new CreateCollectionRequest { Name = Collection });
        var documents = new Documents.DocumentsClient(Server.Channel);
        foreach (var chunk in BeirReader.ReadCorpus(SharedData.SciFact).Take(DocumentCount).Chunk(150))
        {
            var request = new UpsertRequest { Collection = Collection };
            request.Documents.Add(chunk.Select(d => new Document { Id = d.Id, Text = d.FullText }));
            await documents.UpsertAsync(request);
        }
        Query = BeirReader.ReadQueries(SharedData.SciFact).First().Text;
    }
}

public sealed class SchedulerServerTests(BoundedQueueServerFixture fixture) : IClassFixture<BoundedQueueServerFixture>
{
    private Search.SearchClient SearchClient => new(fixture.Server.Channel);

    private SearchRequest Request(int candidates, int k = 5) => new()
    {
        Collection = BoundedQueueServerFixture.Collection,
        Query = fixture.Query,
        Options = new SearchOptions { K = k, Candidates = candidates },
    };

    /// <summary>A following ordinary search succeeds with k reranked hits: the server is healthy.</summary>
    private async Task AssertHealthyAsync()
    {
        var after = await SearchClient.SearchAsync(Request(50), deadline: DateTime.UtcNow.AddSeconds(60));
        Assert.True(after.Reranked);
        Assert.Equal(5, after.Hits.Count);
        Assert.DoesNotContain("Unhandled error", fixture.Server.Output, StringComparison.Ordinal);
    }

    private const string Queued = "Queued Rerank request";
    private const string Released = "Cancelled Rerank request released";

    private int Count(string line) => Regex.Matches(fixture.Server.Output, Regex.Escape(line)).Count;

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "timed out waiting until " + what);
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Text_search_prefixes_the_collections_query_instruction_and_fills_every_stage_timing()
    {
        SearchRequest Plain(string? instruction)
        {
            var request = Request(50, k: 5);
            request.Rerank = false;
            if (instruction is not null) request.QueryInstruction = instruction;
            return request;
        }

        const string English = "Represent this sentence for searching relevant passages: ";
        var byConfig = await SearchClient.SearchAsync(Plain(null));
        var explicitly = await SearchClient.SearchAsync(Plain(English));
        var without = await SearchClient.SearchAsync(Plain(""));
        Assert.Equal(explicitly.Hits.Select(h => (h.Id, h.AnnScore)), byConfig.Hits.Select(h => (h.Id, h.AnnScore)));
        Assert.NotEqual(without.Hits.Select(h => h.AnnScore), byConfig.Hits.Select(h => h.AnnScore));
        Assert.Equal(Enumerable.Range(1, 5).Select(i => (uint)i), byConfig.Hits.Select(h => h.AnnRank));

        var reranked = await SearchClient.SearchAsync(Request(50));
        var t = reranked.Timings;
        Assert.True(t.EmbedUs > 0 && t.RerankUs > 0 && t.TotalUs >= t.EmbedUs + t.AnnUs + t.FetchUs + t.RerankUs, t.ToString());

        // A collection created with its own instruction keeps it.
        var created = await new Collections.CollectionsClient(fixture.Server.Channel).CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = "instructed",
            Config = new CollectionConfig { QueryInstruction = "query: " },
        });
        Assert.Equal("query: ", created.Config.QueryInstruction);
        var got = await new Collections.CollectionsClient(fixture.Server.Channel).GetCollectionAsync(new GetCollectionRequest { Name = "instructed" });
        Assert.Equal("query: ", got.Config.QueryInstruction);
    }

    [Fact]
    public async Task A_flood_of_large_reranks_is_refused_with_RESOURCE_EXHAUSTED_naming_the_bound_and_the_rest_succeed()
    {
        var calls = Enumerable.Range(0, 8).Select(async _ =>
        {
            try
            {
                var response = await SearchClient.SearchAsync(Request(BoundedQueueServerFixture.DocumentCount, k: 10));
                Assert.Equal(10, response.Hits.Count);
                return (StatusCode.OK, "");
            }
            catch (RpcException ex)
            {
                return (ex.StatusCode, ex.Status.Detail);
            }
        }).ToArray();
        var outcomes = await Task.WhenAll(calls);

        Assert.All(outcomes, o => Assert.True(o.Item1 is StatusCode.OK or StatusCode.ResourceExhausted, $"{o.Item1}: {o.Item2}"));
        Assert.Contains(outcomes, o => o.Item1 == StatusCode.OK);
        var refused = outcomes.Where(o => o.Item1 == StatusCode.ResourceExhausted).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, o =>
        {
            Assert.Contains($"max_queued_tokens={BoundedQueueServerFixture.MaxQueuedTokens}", o.Item2, StringComparison.Ordinal);
            Assert.Contains(TestData.RerankerModelId, o.Item2, StringComparison.Ordinal);
            Assert.Contains("retry", o.Item2, StringComparison.Ordinal);
        });
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task A_search_past_its_deadline_fails_promptly_with_DEADLINE_EXCEEDED_and_the_server_stays_healthy()
    {
        // A large rerank occupies the reranker; the short-deadline search queues behind it.
        int queued = Count(Queued), released = Count(Released);
        var busy = SearchClient.SearchAsync(Request(BoundedQueueServerFixture.DocumentCount)).ResponseAsync;
        await WaitForAsync(() => Count(Queued) > queued, "the busy search is queued");
        var sw = Stopwatch.StartNew();
        await RpcAssert.FailsAsync(StatusCode.DeadlineExceeded, async () =>
            await SearchClient.SearchAsync(Request(BoundedQueueServerFixture.DocumentCount), deadline: DateTime.UtcNow.AddMilliseconds(600)));
        // Generous bounds: the test machine may be heavily loaded; the server-side release is checked below.
        Assert.True(sw.ElapsedMilliseconds < 5000, $"deadline reported after {sw.ElapsedMilliseconds} ms");
        if (Count(Queued) > queued + 1)
        {
            // It reached the reranker's queue before its deadline: the server dropped it and released its tokens.
            await WaitForAsync(() => Count(Released) > released, "the server released the expired search's waiting tokens");
        }

        Assert.Equal(5, (await busy).Hits.Count);
        await AssertHealthyAsync();
    }

    [Fact]
    public async Task A_cancelled_search_returns_CANCELLED_promptly_the_server_drops_its_queued_work_and_stays_healthy()
    {
        int queued = Count(Queued), released = Count(Released);
        var busy = SearchClient.SearchAsync(Request(BoundedQueueServerFixture.DocumentCount)).ResponseAsync;
        await WaitForAsync(() => Count(Queued) > queued, "the busy search is queued");
        using var cts = new CancellationTokenSource();
        var call = SearchClient.SearchAsync(Request(BoundedQueueServerFixture.DocumentCount), cancellationToken: cts.Token).ResponseAsync;
        await WaitForAsync(() => Count(Queued) > queued + 1, "the second search is queued for reranking");

        var sw = Stopwatch.StartNew();
        cts.Cancel();
        await RpcAssert.FailsAsync(StatusCode.Cancelled, () => call);
        Assert.True(sw.ElapsedMilliseconds < 5000, $"cancellation reported after {sw.ElapsedMilliseconds} ms");
        await WaitForAsync(() => Count(Released) > released, "the server released the cancelled search's waiting tokens");
        var line = fixture.Server.Output.Split('\n').Last(l => l.Contains(Released, StringComparison.Ordinal));
        Assert.Matches(@"released [1-9][0-9]* waiting tokens", line);

        Assert.Equal(5, (await busy).Hits.Count);
        await AssertHealthyAsync();
    }
}
