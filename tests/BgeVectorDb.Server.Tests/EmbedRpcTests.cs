using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;

namespace BgeVectorDb.Server.Tests;

/// <summary>Search.Embed and Search's return_query_vector on a real loopback server with the tiny synthetic models.</summary>
public sealed class EmbedRpcTests(ModelServerFixture fixture) : IClassFixture<ModelServerFixture>
{
    private const string Instruction = "Represent this sentence for searching relevant passages: ";
    private Search.SearchClient SearchClient => new(fixture.Server.Channel);

    private static EmbedRequest Request(EmbedKind kind, string collection = "", string model = "", params string[] texts)
    {
        var request = new EmbedRequest { Kind = kind, Collection = collection, Model = model };
        request.Texts.AddRange(texts);
        return request;
    }

    private static void AssertClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"index {i}: expected {expected[i]}, actual {actual[i]}");
        }
    }

    private static double Norm(IEnumerable<float> v) => Math.Sqrt(v.Sum(x => (double)x * x));

    private async Task<string> CollectionWithDocs(string name)
    {
        await new Collections.CollectionsClient(fixture.Server.Channel).CreateCollectionAsync(new CreateCollectionRequest { Name = name });
        var upsert = new UpsertRequest { Collection = name };
        upsert.Documents.Add(new Document { Id = "aspirin", Text = "Aspirin reduces the risk of heart attack." });
        upsert.Documents.Add(new Document { Id = "vitd", Text = "Vitamin D deficiency is common in winter." });
        upsert.Documents.Add(new Document { Id = "statins", Text = "Statins lower LDL cholesterol." });
        await new Documents.DocumentsClient(fixture.Server.Channel).UpsertAsync(upsert);
        return name;
    }

    [Fact]
    public async Task Query_vectors_equal_the_vectors_search_uses_and_returns()
    {
        var collection = await CollectionWithDocs("embed-q");
        const string query = "does aspirin prevent heart attacks";
        var search = await SearchClient.SearchAsync(new SearchRequest
        {
            Collection = collection, Query = query, Rerank = false, ReturnQueryVector = true, Options = new SearchOptions { K = 3 },
        });
        Assert.Equal(32, search.QueryVector.Count);

        var embedded = await SearchClient.EmbedAsync(Request(EmbedKind.Query, collection, "", query, "vitamin d"));
        Assert.Equal(TestData.EmbeddingModelId, embedded.Model);
        Assert.Equal(32u, embedded.Dimension);
        Assert.Equal(Instruction, embedded.Prompt); // the collection's instruction (from the model folder's prompts)
        Assert.Equal(2, embedded.Embeddings.Count);
        Assert.All(embedded.Embeddings, e => Assert.InRange(Norm(e.Values), 1 - 1e-5, 1 + 1e-5));
        AssertClose(search.QueryVector, embedded.Embeddings[0].Values);
        Assert.True(Math.Abs(Norm(embedded.Embeddings[0].Values.Zip(embedded.Embeddings[1].Values, (a, b) => a - b))) > 1e-3);

        // The vector scores the hits: search by it gives the same ranking and ANN scores.
        var byVector = new SearchByVectorRequest { Collection = collection, Options = new SearchOptions { K = 3 } };
        byVector.Vector.AddRange(embedded.Embeddings[0].Values);
        var again = await SearchClient.SearchByVectorAsync(byVector);
        Assert.Equal(search.Hits.Select(h => h.Id), again.Hits.Select(h => h.Id));
        AssertClose(search.Hits.Select(h => h.AnnScore).ToList(), again.Hits.Select(h => h.AnnScore).ToList());

        // Without return_query_vector nothing is sent; the default model and an explicit "" instruction follow the same rules.
        var plain = await SearchClient.SearchAsync(new SearchRequest { Collection = collection, Query = query, Rerank = false, Options = new SearchOptions { K = 1 } });
        Assert.Empty(plain.QueryVector);
        var byDefaultModel = await SearchClient.EmbedAsync(Request(EmbedKind.Query, "", "", query));
        AssertClose(search.QueryVector, byDefaultModel.Embeddings[0].Values);
        var noInstruction = Request(EmbedKind.Query, "", TestData.EmbeddingModelId, query);
        noInstruction.QueryInstruction = "";
        var bare = await SearchClient.EmbedAsync(noInstruction);
        Assert.Equal("", bare.Prompt);
        var searchBare = await SearchClient.SearchAsync(new SearchRequest
        {
            Collection = collection, Query = query, QueryInstruction = "", Rerank = false, ReturnQueryVector = true, Options = new SearchOptions { K = 1 },
        });
        AssertClose(searchBare.QueryVector, bare.Embeddings[0].Values);
        Assert.True(Norm(bare.Embeddings[0].Values.Zip(search.QueryVector, (a, b) => a - b)) > 1e-3);
    }

    [Fact]
    public async Task Document_vectors_equal_the_stored_vectors()
    {
        var collection = await CollectionWithDocs("embed-d");
        var embedded = await SearchClient.EmbedAsync(Request(EmbedKind.Document, collection, "", "Statins lower LDL cholesterol."));
        Assert.Equal("", embedded.Prompt);
        var got = await new Documents.DocumentsClient(fixture.Server.Channel).GetDocumentsAsync(new GetDocumentsRequest
        {
            Collection = collection, Ids = { "statins" }, Fields = new ReturnFields { Vector = true },
        });
        AssertClose(Assert.Single(got.Documents).Vector, embedded.Embeddings[0].Values);
    }

    [Fact]
    public async Task Bad_requests_fail_naming_the_field()
    {
        await CollectionWithDocs("embed-bad");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await SearchClient.EmbedAsync(Request(EmbedKind.Query)), "texts");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument,
            async () => await SearchClient.EmbedAsync(Request(EmbedKind.Query, "embed-bad", "", Enumerable.Repeat("a", 1001).ToArray())), "texts");
        var tooMany = await RpcAssert.FailsAsync(StatusCode.InvalidArgument,
            async () => await SearchClient.EmbedAsync(Request(EmbedKind.Document, "", "", Enumerable.Repeat("a", 1001).ToArray())), "texts");
        Assert.Contains("max_batch_size=1000", tooMany.Status.Detail);
        var tooLong = await RpcAssert.FailsAsync(StatusCode.InvalidArgument,
            async () => await SearchClient.EmbedAsync(Request(EmbedKind.Query, "", "", "fine", new string('x', 8193))), "texts[1]");
        Assert.Contains("max_query_length=8192", tooLong.Status.Detail);
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument,
            async () => await SearchClient.EmbedAsync(Request(EmbedKind.Document, "embed-bad", "", "ok", "  ")), "texts[1]");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument,
            async () => await SearchClient.EmbedAsync(Request(EmbedKind.Query, "embed-bad", TestData.EmbeddingModelId, "q")), "model");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument,
            async () => await SearchClient.EmbedAsync(Request(EmbedKind.Query, "", "nobody/no-such-model", "q")), "model");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument,
            async () => await SearchClient.EmbedAsync(Request((EmbedKind)7, "", "", "q")), "kind");
        var docWithInstruction = Request(EmbedKind.Document, "", "", "d");
        docWithInstruction.QueryInstruction = "x";
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await SearchClient.EmbedAsync(docWithInstruction), "query_instruction");
        await RpcAssert.FailsAsync(StatusCode.NotFound, async () => await SearchClient.EmbedAsync(Request(EmbedKind.Query, "no-such-collection", "", "q")));
    }
}
