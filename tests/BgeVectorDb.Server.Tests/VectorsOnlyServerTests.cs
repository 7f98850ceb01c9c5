using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;

namespace BgeVectorDb.Server.Tests;

/// <summary>A real server with no models (vectors-only collections): the contract, validation and the
/// error mapping, over gRPC on loopback.</summary>
public sealed class VectorsOnlyServerTests() : TempServer("bgevdb-test")
{
    private const int Dim = 8;

    protected override IReadOnlyDictionary<string, string> Settings =>
        ServerSettings.NoModels(("Limits:MaxBatchSize", "50"), ("Limits:MaxTextLength", "1000"));

    private Collections.CollectionsClient CollectionsClient => new(Server.Channel);
    private Documents.DocumentsClient DocumentsClient => new(Server.Channel);
    private Search.SearchClient SearchClient => new(Server.Channel);

    private async Task CreateAsync(string name, Distance distance = Distance.Cosine) =>
        await CollectionsClient.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = name,
            Config = new CollectionConfig { EmbeddingModel = "none", Dimension = Dim, Distance = distance },
        });

    private static Document Doc(string id, float[] vector, string text = "", int? year = null)
    {
        var d = new Document { Id = id, Text = text };
        d.Vector.AddRange(vector);
        if (year is { } y) d.Metadata["year"] = new Value { IntValue = y };
        return d;
    }

    private static float[] Basis(int i, float scale = 1f)
    {
        var v = new float[Dim];
        v[i % Dim] = scale;
        v[(i + 1) % Dim] = 0.1f * (i / Dim + 1);
        return v;
    }

    [Fact]
    public async Task Create_get_list_stats_and_delete_a_collection()
    {
        var info = await CollectionsClient.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = "c1",
            Config = new CollectionConfig { EmbeddingModel = "none", Dimension = Dim, Distance = Distance.Dot, Hnsw = new HnswConfig { M = 8 } },
        });
        Assert.Equal("none", info.Config.EmbeddingModel);
        Assert.Equal((uint)Dim, info.Config.Dimension);
        Assert.Equal(Distance.Dot, info.Config.Distance);
        Assert.Equal(8u, info.Config.Hnsw.M);
        Assert.Equal(200u, info.Config.Hnsw.EfConstruction);
        Assert.Equal("none", info.Config.RerankerModel);

        var list = await CollectionsClient.ListCollectionsAsync(new ListCollectionsRequest());
        Assert.Equal(["c1"], list.Collections.Select(c => c.Name));

        await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "c1", Documents = { Doc("a", Basis(0)), Doc("b", Basis(1)) } });
        var stats = await CollectionsClient.GetCollectionStatsAsync(new GetCollectionStatsRequest { Name = "c1" });
        Assert.Equal(2ul, stats.DocumentCount);
        Assert.Equal("hnsw", stats.IndexKind);

        Assert.True((await CollectionsClient.DeleteCollectionAsync(new DeleteCollectionRequest { Name = "c1" })).Deleted);
        await RpcAssert.FailsAsync(StatusCode.NotFound, async () => await CollectionsClient.GetCollectionAsync(new GetCollectionRequest { Name = "c1" }));
        Assert.False(Directory.Exists(Path.Combine(Dir.Sub("data"), "collections", "c1")));
    }

    [Fact]
    public async Task Search_by_vector_returns_nearest_first_and_respects_filters()
    {
        await CreateAsync("vec");
        var request = new UpsertRequest { Collection = "vec" };
        for (var i = 0; i < 40; i++) request.Documents.Add(Doc($"d{i}", Basis(i), $"text {i}", year: 2000 + i));
        var ack = await DocumentsClient.UpsertAsync(request);
        Assert.Equal(40u, ack.Upserted);

        var query = new SearchByVectorRequest { Collection = "vec", Options = new SearchOptions { K = 3, Fields = new ReturnFields { Text = true, Metadata = true } } };
        query.Vector.AddRange(Basis(5));
        var result = await SearchClient.SearchByVectorAsync(query);
        Assert.Equal(3, result.Hits.Count);
        Assert.Equal("d5", result.Hits[0].Id);
        Assert.Equal("text 5", result.Hits[0].Text);
        Assert.Equal(2005, result.Hits[0].Metadata["year"].IntValue);
        Assert.InRange(result.Hits[0].AnnScore, 0.999f, 1.001f);
        Assert.True(result.Hits.Zip(result.Hits.Skip(1)).All(p => p.First.Score >= p.Second.Score));
        Assert.False(result.Reranked);
        Assert.False(result.Hits[0].HasRerankScore);

        query.Options.Filter = new Filter { Field = new FieldCondition { Key = "year", Range = new BgeVectorDb.Protos.V1.Range { Gte = 2020 } } };
        var filtered = await SearchClient.SearchByVectorAsync(query);
        Assert.Equal(3, filtered.Hits.Count);
        Assert.All(filtered.Hits, h => Assert.True(h.Metadata["year"].IntValue >= 2020));

        var byDoc = await SearchClient.SearchByDocumentAsync(new SearchByDocumentRequest { Collection = "vec", Id = "d5", Options = new SearchOptions { K = 5 } });
        Assert.DoesNotContain(byDoc.Hits, h => h.Id == "d5");
        Assert.Equal(5, byDoc.Hits.Count);
    }

    [Fact]
    public async Task Get_upsert_replace_and_delete_by_id()
    {
        await CreateAsync("docs");
        await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "docs", Documents = { Doc("x", Basis(0), "first", 1), Doc("y", Basis(1), "second") } });
        var replaced = await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "docs", Documents = { Doc("x", Basis(2), "first v2", 2) } });
        Assert.Equal(1u, replaced.Replaced);

        var got = await DocumentsClient.GetDocumentsAsync(new GetDocumentsRequest
        {
            Collection = "docs",
            Ids = { "x", "nope" },
            Fields = new ReturnFields { Text = true, Metadata = true, Vector = true },
        });
        var x = Assert.Single(got.Documents);
        Assert.Equal("first v2", x.Text);
        Assert.Equal(2, x.Metadata["year"].IntValue);
        var expected = Basis(2);
        var norm = MathF.Sqrt(expected.Sum(v => v * v));
        Assert.Equal(expected.Select(v => v / norm), x.Vector, (a, b) => MathF.Abs(a - b) < 1e-6f);
        Assert.Equal(["nope"], got.MissingIds);

        var deleted = await DocumentsClient.DeleteDocumentsAsync(new DeleteDocumentsRequest { Collection = "docs", Ids = { "x", "never" } });
        Assert.Equal(1u, deleted.Deleted);
        var after = await DocumentsClient.GetDocumentsAsync(new GetDocumentsRequest { Collection = "docs", Ids = { "x", "y" } });
        Assert.Equal(["y"], after.Documents.Select(d => d.Id));
        var search = new SearchByVectorRequest { Collection = "docs", Options = new SearchOptions { K = 10 } };
        search.Vector.AddRange(Basis(2));
        Assert.Equal(["y"], (await SearchClient.SearchByVectorAsync(search)).Hits.Select(h => h.Id));
    }

    [Fact]
    public async Task Bad_input_gets_the_right_status_naming_the_field()
    {
        await CreateAsync("bad");
        await RpcAssert.FailsAsync(StatusCode.NotFound, async () =>
            await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "missing", Documents = { Doc("a", Basis(0)) } }));
        await RpcAssert.FailsAsync(StatusCode.AlreadyExists, () => CreateAsync("bad"));
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, () => CreateAsync("bad name!"), "name");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await CollectionsClient.CreateCollectionAsync(new CreateCollectionRequest { Name = "nodim", Config = new CollectionConfig { EmbeddingModel = "none" } }), "config.dimension");

        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "bad", Documents = { Doc("a", new float[Dim + 1]) } }), "documents[0].vector");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "bad", Documents = { new Document { Id = "t", Text = "" } } }), "documents[0].vector");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "bad", Documents = { Doc("", Basis(0)) } }), "documents[0].id");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "bad", Documents = { Doc("big", Basis(0), new string('x', 1001)) } }), "documents[0].text");
        var hugeMeta = Doc("m", Basis(0));
        hugeMeta.Metadata["k"] = new Value();
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "bad", Documents = { hugeMeta } }), "documents[0].metadata[k]");

        // A rejected batch writes nothing: 49 good documents and one bad one.
        var mixed = new UpsertRequest { Collection = "bad" };
        for (var i = 0; i < 49; i++) mixed.Documents.Add(Doc($"ok{i}", Basis(i)));
        mixed.Documents.Add(Doc("wrong", new float[3]));
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await DocumentsClient.UpsertAsync(mixed), "documents[49].vector");
        var oversized = new UpsertRequest { Collection = "bad" };
        for (var i = 0; i < 51; i++) oversized.Documents.Add(Doc($"o{i}", Basis(i)));
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await DocumentsClient.UpsertAsync(oversized), "documents");
        Assert.Contains("max_batch_size=50", ex.Status.Detail);
        var stats = await CollectionsClient.GetCollectionStatsAsync(new GetCollectionStatsRequest { Name = "bad" });
        Assert.Equal(0ul, stats.DocumentCount);

        var q = new SearchByVectorRequest { Collection = "bad", Options = new SearchOptions { K = 0 } };
        q.Vector.AddRange(Basis(0));
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await SearchClient.SearchByVectorAsync(q), "options.k");
        q.Options.K = -3;
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await SearchClient.SearchByVectorAsync(q), "options.k");
        q.Options.K = 1001;
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await SearchClient.SearchByVectorAsync(q), "options.k");
        q.Options.K = 5;
        q.Options.Filter = new Filter { Field = new FieldCondition { Key = "year" } };
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await SearchClient.SearchByVectorAsync(q), "options.filter.field");
        q.Options.Filter = new Filter();
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await SearchClient.SearchByVectorAsync(q), "options.filter");
        q.Options.Filter = null;
        q.Vector.Add(1f);
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await SearchClient.SearchByVectorAsync(q), "vector");
        await RpcAssert.FailsAsync(StatusCode.FailedPrecondition, async () =>
            await SearchClient.SearchAsync(new SearchRequest { Collection = "bad", Query = "text on a vectors-only collection", Options = new SearchOptions { K = 1 } }));
        await RpcAssert.FailsAsync(StatusCode.NotFound, async () =>
            await SearchClient.SearchByDocumentAsync(new SearchByDocumentRequest { Collection = "bad", Id = "ghost", Options = new SearchOptions { K = 1 } }));
    }

    [Fact]
    public async Task Acked_writes_survive_kill_and_graceful_restart()
    {
        await CreateAsync("durable");
        await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "durable", Documents = { Doc("a", Basis(0), "alpha", 7), Doc("b", Basis(1), "beta") } });
        await DocumentsClient.DeleteDocumentsAsync(new DeleteDocumentsRequest { Collection = "durable", Ids = { "b" } });
        Server.Kill();
        await RestartAsync();
        var got = await DocumentsClient.GetDocumentsAsync(new GetDocumentsRequest { Collection = "durable", Ids = { "a", "b" }, Fields = new ReturnFields { Text = true, Metadata = true } });
        var a = Assert.Single(got.Documents);
        Assert.Equal("alpha", a.Text);
        Assert.Equal(7, a.Metadata["year"].IntValue);
        Assert.Equal(["b"], got.MissingIds);

        await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "durable", Documents = { Doc("c", Basis(2), "gamma") } });
        Assert.Equal(0, await Server.StopAsync(TimeSpan.FromSeconds(30)));
        await RestartAsync();
        var stats = await CollectionsClient.GetCollectionStatsAsync(new GetCollectionStatsRequest { Name = "durable" });
        Assert.Equal(2ul, stats.DocumentCount);
    }
}
