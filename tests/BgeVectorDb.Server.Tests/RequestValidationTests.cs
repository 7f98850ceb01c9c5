using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;

namespace BgeVectorDb.Server.Tests;

/// <summary>One vectors-only server shared by the request-validation tests below.</summary>
public sealed class ValidationServerFixture() : TempServer("bgevdb-validation")
{
    public const int Dim = 4;

    protected override IReadOnlyDictionary<string, string> Settings => ServerSettings.NoModels();

    protected override async Task SeedAsync()
    {
        var collections = new Collections.CollectionsClient(Server.Channel);
        foreach (var (name, distance) in new[] { ("cos", Distance.Cosine), ("dot", Distance.Dot), ("l2", Distance.L2) })
        {
            await collections.CreateCollectionAsync(new CreateCollectionRequest
            {
                Name = name,
                Config = new CollectionConfig { EmbeddingModel = "none", RerankerModel = "none", Dimension = Dim, Distance = distance },
            });
            var upsert = new UpsertRequest { Collection = name };
            for (var i = 0; i < 20; i++) upsert.Documents.Add(Doc($"d{i}", 1f + i, 1f, (i % 3) - 1f, 0.5f));
            await new Documents.DocumentsClient(Server.Channel).UpsertAsync(upsert);
        }
    }

    public static Document Doc(string id, params float[] vector)
    {
        var d = new Document { Id = id };
        d.Vector.AddRange(vector);
        return d;
    }
}

/// <summary>Requests the server must refuse with INVALID_ARGUMENT naming the field (issue 11: items 3, 6, 9, 12, 7).</summary>
public sealed class RequestValidationTests(ValidationServerFixture fixture) : IClassFixture<ValidationServerFixture>
{
    private Documents.DocumentsClient DocumentsClient => new(fixture.Server.Channel);
    private Search.SearchClient SearchClient => new(fixture.Server.Channel);
    private Collections.CollectionsClient CollectionsClient => new(fixture.Server.Channel);

    private static SearchByVectorRequest VectorQuery(string collection, SearchOptions options, params float[] vector)
    {
        var r = new SearchByVectorRequest { Collection = collection, Options = options };
        r.Vector.AddRange(vector.Length == 0 ? [1f, 1f, 0f, 0.5f] : vector);
        return r;
    }

    // --- item 3: vectors whose norm overflows single precision, zero vectors in cosine collections ---

    [Theory]
    [InlineData("cos")]
    [InlineData("dot")]
    [InlineData("l2")]
    public async Task A_vector_whose_norm_overflows_is_refused_and_does_not_top_queries(string collection)
    {
        // 1e20 per component: finite floats, but the squared norm (4e40) overflows float.
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await DocumentsClient.UpsertAsync(
            new UpsertRequest { Collection = collection, Documents = { ValidationServerFixture.Doc("huge", 1e20f, 1e20f, 1e20f, 1e20f) } }), "documents[0].vector");
        Assert.Contains("norm", ex.Status.Detail);
        var q = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await SearchClient.SearchByVectorAsync(VectorQuery(collection, new SearchOptions { K = 3 }, 1e20f, 0f, 0f, 0f)), "vector");
        Assert.Contains("norm", q.Status.Detail);

        // Nothing was written: every score stays finite and the top hit is an ordinary document.
        var hits = (await SearchClient.SearchByVectorAsync(VectorQuery(collection, new SearchOptions { K = 5 }))).Hits;
        Assert.Equal(5, hits.Count);
        Assert.DoesNotContain(hits, h => h.Id == "huge");
        Assert.All(hits, h => Assert.True(float.IsFinite(h.Score) && Math.Abs(h.Score) < 1e6, $"{h.Id}: {h.Score}"));
    }

    [Fact]
    public async Task A_large_but_representable_vector_is_accepted_and_normalised_in_a_cosine_collection()
    {
        // 1e18 per component: squared norm 4e36 fits in float, so cosine normalises it to unit length.
        Assert.Equal(1u, (await DocumentsClient.UpsertAsync(new UpsertRequest
        {
            Collection = "cos",
            Documents = { ValidationServerFixture.Doc("big-ok", 1e18f, 1e18f, 0f, 0f) },
        })).Upserted);
        var hits = (await SearchClient.SearchByVectorAsync(VectorQuery("cos", new SearchOptions { K = 1 }, 1f, 1f, 0f, 0f))).Hits;
        Assert.Equal("big-ok", hits[0].Id);
        Assert.Equal(1f, hits[0].Score, 3);
    }

    [Fact]
    public async Task A_zero_vector_is_refused_in_a_cosine_collection()
    {
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await DocumentsClient.UpsertAsync(
            new UpsertRequest { Collection = "cos", Documents = { ValidationServerFixture.Doc("ok", 1f, 0f, 0f, 0f), ValidationServerFixture.Doc("zero", 0f, 0f, 0f, 0f) } }),
            "documents[1].vector");
        Assert.Contains("zero", ex.Status.Detail);
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await SearchClient.SearchByVectorAsync(VectorQuery("cos", new SearchOptions { K = 3 }, 0f, 0f, 0f, 0f)), "vector");
        // Dot and L2 have no normalisation: a zero vector is a valid point there.
        Assert.Equal(1u, (await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "l2", Documents = { ValidationServerFixture.Doc("origin", 0f, 0f, 0f, 0f) } })).Upserted);
    }

    // --- item 6: ef is bounded by Limits:MaxEf ---

    [Theory]
    [InlineData(10_001)]
    [InlineData(int.MaxValue - 2)]
    [InlineData(int.MaxValue)]
    public async Task Ef_above_max_ef_is_refused(int ef)
    {
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await SearchClient.SearchByVectorAsync(VectorQuery("cos", new SearchOptions { K = 3, Ef = ef })), "options.ef");
        Assert.Contains("max_ef=10000 (Limits:MaxEf)", ex.Status.Detail);
    }

    [Fact]
    public async Task Ef_at_max_ef_works_and_create_refuses_ef_search_above_it()
    {
        Assert.Equal(3, (await SearchClient.SearchByVectorAsync(VectorQuery("cos", new SearchOptions { K = 3, Ef = 10_000 }))).Hits.Count);
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await CollectionsClient.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = "efbig",
            Config = new CollectionConfig { EmbeddingModel = "none", RerankerModel = "none", Dimension = 4, Hnsw = new HnswConfig { EfSearch = 10_001 } },
        }), "config.hnsw.ef_search");
        Assert.Contains("max_ef=10000", ex.Status.Detail);
    }

    // --- item 9: collection names ending in a newline ---

    [Theory]
    [InlineData("abc\n")]
    [InlineData("abc\r\n")]
    [InlineData("\nabc")]
    public async Task A_collection_name_with_a_newline_is_refused(string name)
    {
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await CollectionsClient.CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = name,
            Config = new CollectionConfig { EmbeddingModel = "none", RerankerModel = "none", Dimension = 4 },
        }), "name");
        var list = await CollectionsClient.ListCollectionsAsync(new ListCollectionsRequest());
        Assert.DoesNotContain(list.Collections, c => c.Name.Contains('\n'));
    }

    // --- item 12: candidates must be >= k (0 = default) ---

    [Fact]
    public async Task Candidates_below_k_are_refused_and_zero_means_the_default()
    {
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await SearchClient.SearchByVectorAsync(VectorQuery("cos", new SearchOptions { K = 10, Candidates = 5 })), "options.candidates");
        Assert.Contains("k=10", ex.Status.Detail);
        Assert.Equal(10, (await SearchClient.SearchByVectorAsync(VectorQuery("cos", new SearchOptions { K = 10, Candidates = 10 }))).Hits.Count);
        Assert.Equal(15, (await SearchClient.SearchByVectorAsync(VectorQuery("cos", new SearchOptions { K = 15, Candidates = 0 }))).Hits.Count);
    }

    // --- item 7: requests protobuf cannot parse (invalid UTF-8, nesting past the recursion limit) ---

    private static readonly Marshaller<byte[]> RawBytes = Marshallers.Create(b => b, b => b);

    /// <summary>A valid message's bytes with the first occurrence of <paramref name="marker"/> (ASCII) replaced by
    /// bytes that are not UTF-8.</summary>
    private static byte[] WithInvalidUtf8(Google.Protobuf.IMessage message, string marker)
    {
        var bytes = Google.Protobuf.MessageExtensions.ToByteArray(message);
        var m = System.Text.Encoding.ASCII.GetBytes(marker);
        var at = bytes.AsSpan().IndexOf(m);
        Assert.True(at >= 0);
        bytes[at] = 0xFF;
        bytes[at + 1] = 0xFE;
        return bytes;
    }

    private async Task<double> CountAsync(string rpc, string code) =>
        (await Scrape.FromAsync(fixture.Server.MetricsAddress)).Sum("bgevdb_requests_total", ("rpc", rpc), ("code", code));

    [Fact]
    public async Task Invalid_utf8_in_a_unary_request_is_invalid_argument_and_counted()
    {
        var before = await CountAsync("bgevectordb.v1.Search/SearchByDocument", "INVALID_ARGUMENT");
        var bytes = WithInvalidUtf8(new SearchByDocumentRequest { Collection = "cos", Id = "xxd1", Options = new SearchOptions { K = 3 } }, "xx");
        var method = new Method<byte[], SearchResponse>(MethodType.Unary, "bgevectordb.v1.Search", "SearchByDocument", RawBytes,
            Marshallers.Create(r => Google.Protobuf.MessageExtensions.ToByteArray(r), SearchResponse.Parser.ParseFrom));
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await fixture.Server.Channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(), bytes));
        Assert.Contains("UTF-8", ex.Status.Detail);
        Assert.Contains("SearchByDocumentRequest", ex.Status.Detail);
        Assert.Equal(before + 1, await CountAsync("bgevectordb.v1.Search/SearchByDocument", "INVALID_ARGUMENT"));
        Assert.DoesNotContain("Unhandled error", fixture.Server.Output);
    }

    [Fact]
    public async Task Invalid_utf8_in_a_streamed_request_is_invalid_argument()
    {
        var good = new UpsertRequest { Collection = "cos", Documents = { ValidationServerFixture.Doc("s1", 1f, 2f, 3f, 4f) } };
        var bad = WithInvalidUtf8(new UpsertRequest { Collection = "cos", Documents = { ValidationServerFixture.Doc("xxs2", 1f, 2f, 3f, 4f) } }, "xx");
        var method = new Method<byte[], UpsertResponse>(MethodType.DuplexStreaming, "bgevectordb.v1.Documents", "UpsertStream", RawBytes,
            Marshallers.Create(r => Google.Protobuf.MessageExtensions.ToByteArray(r), UpsertResponse.Parser.ParseFrom));
        using var call = fixture.Server.Channel.CreateCallInvoker().AsyncDuplexStreamingCall(method, null, new CallOptions());
        await call.RequestStream.WriteAsync(Google.Protobuf.MessageExtensions.ToByteArray(good));
        Assert.True(await call.ResponseStream.MoveNext());
        Assert.Equal(1u, call.ResponseStream.Current.Upserted);
        await call.RequestStream.WriteAsync(bad);
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () => await call.ResponseStream.MoveNext());
        Assert.Contains("UTF-8", ex.Status.Detail);
    }

    [Fact]
    public async Task A_filter_nested_past_the_recursion_limit_is_invalid_argument()
    {
        var filter = new Filter { Field = new FieldCondition { Key = "k", Exists = true } };
        for (var i = 0; i < 120; i++) filter = new Filter { Not = filter };
        var ex = await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await SearchClient.SearchByVectorAsync(VectorQuery("cos", new SearchOptions { K = 3, Filter = filter })));
        Assert.Contains("nesting", ex.Status.Detail);
        // Nesting within the limit is parsed and evaluated.
        var shallow = new Filter { Field = new FieldCondition { Key = "k", Exists = true } };
        for (var i = 0; i < 21; i++) shallow = new Filter { Not = shallow };   // odd: "k is absent", true everywhere
        Assert.Equal(3, (await SearchClient.SearchByVectorAsync(VectorQuery("cos", new SearchOptions { K = 3, Filter = shallow }))).Hits.Count);
    }

    [Fact]
    public async Task Services_bound_by_the_parse_checking_binder_still_answer_reflection_and_health()
    {
        using var call = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(fixture.Server.Channel).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
        Assert.True(await call.ResponseStream.MoveNext());
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        await call.RequestStream.CompleteAsync();
        Assert.Contains("bgevectordb.v1.Search", services);
        Assert.Contains("grpc.health.v1.Health", services);
        var health = await new Grpc.Health.V1.Health.HealthClient(fixture.Server.Channel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }
}
