using BgeVectorDb.Common.Beir;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Reranking;
using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;

namespace BgeVectorDb.Server.Tests;

/// <summary>One real server with the tiny synthetic BGE-shaped models: SciFact in, reranked hits out.</summary>
public sealed class ModelServerFixture() : TempServer("bgevdb-e2e", tinyModels: true)
{
    protected override IReadOnlyDictionary<string, string> Settings =>
        ServerSettings.TinyModels(Dir, TestData.RerankerModelId, ("Inference:ExecutionProvider", "auto"));
}

public sealed class EndToEndTests(ModelServerFixture fixture) : IClassFixture<ModelServerFixture>
{
    private const int DocCount = 1000;

    private Collections.CollectionsClient CollectionsClient => new(fixture.Server.Channel);
    private Documents.DocumentsClient DocumentsClient => new(fixture.Server.Channel);
    private Search.SearchClient SearchClient => new(fixture.Server.Channel);

    [Fact]
    public async Task Ingest_1000_scifact_documents_then_search_rerank_get_and_delete()
    {
        var created = await CollectionsClient.CreateCollectionAsync(new CreateCollectionRequest { Name = "scifact" });
        Assert.Equal(TestData.EmbeddingModelId, created.Config.EmbeddingModel);
        Assert.Equal(TestData.RerankerModelId, created.Config.RerankerModel);
        Assert.Equal(32u, created.Config.Dimension);
        Assert.Equal("Represent this sentence for searching relevant passages: ", created.Config.QueryInstruction);

        var corpus = BeirReader.ReadCorpus(SharedData.SciFact).Take(DocCount).ToList();
        using (var stream = DocumentsClient.UpsertStream())
        {
            var batches = corpus.Chunk(100).Select((chunk, i) =>
            {
                var request = new UpsertRequest { Collection = "scifact", BatchId = (ulong)i + 1 };
                foreach (var d in chunk)
                {
                    var doc = new Document { Id = d.Id, Text = d.FullText };
                    doc.Metadata["title"] = new Value { StringValue = d.Title };
                    doc.Metadata["n"] = new Value { IntValue = corpus.IndexOf(d) };
                    request.Documents.Add(doc);
                }
                return request;
            }).ToList();
            var writer = Task.Run(async () =>
            {
                foreach (var b in batches) await stream.RequestStream.WriteAsync(b);
                await stream.RequestStream.CompleteAsync();
            });
            var acks = new List<UpsertResponse>();
            await foreach (var ack in stream.ResponseStream.ReadAllAsync()) acks.Add(ack);
            await writer;
            Assert.Equal(Enumerable.Range(1, 10).Select(i => (ulong)i), acks.Select(a => a.BatchId));
            Assert.All(acks, a => Assert.Equal(100u, a.Upserted));
            Assert.True(acks.Zip(acks.Skip(1)).All(p => p.First.WalPosition < p.Second.WalPosition));
        }
        var stats = await CollectionsClient.GetCollectionStatsAsync(new GetCollectionStatsRequest { Name = "scifact" });
        Assert.Equal((ulong)DocCount, stats.DocumentCount);

        // Text query with rerank over 100 candidates.
        var query = BeirReader.ReadQueries(SharedData.SciFact).First().Text;
        var result = await SearchClient.SearchAsync(new SearchRequest
        {
            Collection = "scifact",
            Query = query,
            Options = new SearchOptions { K = 10, Candidates = 100, Fields = new ReturnFields { Text = true, Metadata = true } },
        });
        Assert.True(result.Reranked);
        Assert.Equal(10, result.Hits.Count);
        Assert.All(result.Hits, h =>
        {
            Assert.True(h.HasRerankScore);
            Assert.Equal(h.RerankScore, h.Score);
            Assert.InRange(h.AnnRank, 1u, 100u);
            Assert.InRange(h.AnnScore, -1.0001f, 1.0001f);
            Assert.False(string.IsNullOrEmpty(h.Text));
        });
        Assert.True(result.Hits.Zip(result.Hits.Skip(1)).All(p => p.First.RerankScore >= p.Second.RerankScore));
        Assert.Equal(10, result.Hits.Select(h => h.Id).Distinct().Count());
        Assert.True(result.Timings.EmbedUs > 0 && result.Timings.RerankUs > 0 && result.Timings.TotalUs >= result.Timings.RerankUs);

        // The rerank scores are the cross-encoder's: an independent in-process reranker on the same pairs agrees.
        var factory = new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });
        using (var reranker = CrossEncoderReranker.Load(Path.Combine(fixture.ModelsFolder, TestData.RerankerModelId), TestData.RerankerModelId, factory))
        {
            var independent = await reranker.ScoreAsync(query, result.Hits.Select(h => h.Text).ToArray());
            for (var i = 0; i < independent.Length; i++) Assert.Equal(independent[i], result.Hits[i].RerankScore, 1e-4f);

            // The k hits are the top of ALL 100 candidates sorted by an independent rerank of the same pairs: the
            // candidates are the ANN top-100 (rerank off), scored in one call here.
            var candidates = await SearchClient.SearchAsync(new SearchRequest
            {
                Collection = "scifact",
                Query = query,
                Rerank = false,
                Options = new SearchOptions { K = 100, Candidates = 100, Fields = new ReturnFields { Text = true } },
            });
            Assert.Equal(100, candidates.Hits.Count);
            var all = await reranker.ScoreAsync(query, candidates.Hits.Select(h => h.Text).ToArray());
            var byId = candidates.Hits.Select((h, i) => (h.Id, Score: all[i])).ToDictionary(p => p.Id, p => p.Score);
            var expected = byId.OrderByDescending(p => p.Value).Take(10).ToList();
            Assert.All(result.Hits, h => Assert.True(byId.ContainsKey(h.Id), $"{h.Id} is not among the 100 ANN candidates"));
            for (var i = 0; i < 10; i++)
            {
                // Same order (scores equal up to float noise between batch shapes; exact ties may swap).
                Assert.Equal(expected[i].Value, byId[result.Hits[i].Id], 1e-4f);
            }
            Assert.Equal(expected.Select(p => p.Key).Order(), result.Hits.Select(h => h.Id).Order());
        }

        // Rerank off returns ANN order.
        var annOnly = await SearchClient.SearchAsync(new SearchRequest { Collection = "scifact", Query = query, Rerank = false, Options = new SearchOptions { K = 10 } });
        Assert.False(annOnly.Reranked);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (uint)i), annOnly.Hits.Select(h => h.AnnRank));
        Assert.All(annOnly.Hits, h => Assert.False(h.HasRerankScore));

        // Search by vector: a stored document's own vector finds it first.
        var target = corpus[123];
        var got = await DocumentsClient.GetDocumentsAsync(new GetDocumentsRequest
        {
            Collection = "scifact",
            Ids = { target.Id },
            Fields = new ReturnFields { Text = true, Metadata = true, Vector = true },
        });
        var stored = Assert.Single(got.Documents);
        Assert.Equal(target.FullText, stored.Text);
        Assert.Equal(target.Title, stored.Metadata["title"].StringValue);
        Assert.Equal(32, stored.Vector.Count);
        Assert.Equal(1.0, Math.Sqrt(stored.Vector.Sum(v => (double)v * v)), 4);
        var byVector = new SearchByVectorRequest { Collection = "scifact", Options = new SearchOptions { K = 3 } };
        byVector.Vector.AddRange(stored.Vector);
        var vectorHits = await SearchClient.SearchByVectorAsync(byVector);
        Assert.Equal(target.Id, vectorHits.Hits[0].Id);
        Assert.Equal(1f, vectorHits.Hits[0].AnnScore, 1e-4f);

        // Delete by id: gone from reads and from search.
        var deleted = await DocumentsClient.DeleteDocumentsAsync(new DeleteDocumentsRequest { Collection = "scifact", Ids = { target.Id } });
        Assert.Equal(1u, deleted.Deleted);
        var after = await DocumentsClient.GetDocumentsAsync(new GetDocumentsRequest { Collection = "scifact", Ids = { target.Id } });
        Assert.Empty(after.Documents);
        Assert.Equal([target.Id], after.MissingIds);
        var afterSearch = await SearchClient.SearchByVectorAsync(byVector);
        Assert.DoesNotContain(afterSearch.Hits, h => h.Id == target.Id);

        // Filter on text collections too.
        var filtered = await SearchClient.SearchAsync(new SearchRequest
        {
            Collection = "scifact",
            Query = query,
            Options = new SearchOptions
            {
                K = 5,
                Filter = new Filter { Field = new FieldCondition { Key = "n", Range = new BgeVectorDb.Protos.V1.Range { Lt = 50 } } },
                Fields = new ReturnFields { Metadata = true },
            },
        });
        Assert.Equal(5, filtered.Hits.Count);
        Assert.All(filtered.Hits, h => Assert.True(h.Metadata["n"].IntValue < 50));
        Assert.All(filtered.Hits, h => Assert.Equal("", h.Text));
    }

    [Fact]
    public async Task Text_collection_rejects_bad_input_naming_the_field()
    {
        await CollectionsClient.CreateCollectionAsync(new CreateCollectionRequest { Name = "strict" });
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await DocumentsClient.UpsertAsync(new UpsertRequest { Collection = "strict", Documents = { new Document { Id = "a", Text = "  " } } }), "documents[0].text");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await SearchClient.SearchAsync(new SearchRequest { Collection = "strict", Query = "", Options = new SearchOptions { K = 3 } }), "query");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await SearchClient.SearchAsync(new SearchRequest { Collection = "strict", Query = "q", Options = new SearchOptions { K = 3, Candidates = -1 } }), "options.candidates");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await CollectionsClient.CreateCollectionAsync(new CreateCollectionRequest { Name = "wrongdim", Config = new CollectionConfig { Dimension = 384 } }), "config.dimension");
        await RpcAssert.FailsAsync(StatusCode.InvalidArgument, async () =>
            await CollectionsClient.CreateCollectionAsync(new CreateCollectionRequest { Name = "nomodel", Config = new CollectionConfig { EmbeddingModel = "acme/not-here" } }), "config.embedding_model");
        await RpcAssert.FailsAsync(StatusCode.NotFound, async () =>
            await SearchClient.SearchAsync(new SearchRequest { Collection = "nope", Query = "q", Options = new SearchOptions { K = 3 } }));
    }

    [Fact]
    public async Task Info_reports_cpu_provider_with_the_reason_and_the_synthetic_models()
    {
        var info = await new Admin.AdminClient(fixture.Server.Channel).GetInfoAsync(new GetInfoRequest());
        Assert.Equal("cpu", info.ExecutionProvider);
        Assert.Contains("CUDA", info.ExecutionProviderReason, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("CPUExecutionProvider", info.AvailableProviders);
        Assert.False(string.IsNullOrEmpty(info.Version));
        var embedding = Assert.Single(info.Models, m => m.Role == "embedding");
        Assert.Equal(TestData.EmbeddingModelId, embedding.Id);
        Assert.Equal(32u, embedding.Dimension);
        Assert.Equal("bert", embedding.Family);
        Assert.True(embedding.Synthetic);
        Assert.Equal("cls", embedding.Pooling); // no sentence-transformers Pooling module in the folder: the BGE default
        Assert.True(embedding.Normalized);
        Assert.Equal("Represent this sentence for searching relevant passages: ", embedding.QueryPrompt); // its config_sentence_transformers.json
        Assert.Equal("", embedding.DocumentPrompt);
        Assert.Equal(512u, embedding.MaxLength); // tokenizer_config.json model_max_length 512, 512 positions
        var reranker = Assert.Single(info.Models, m => m.Role == "reranker");
        Assert.Equal(TestData.RerankerModelId, reranker.Id);
        Assert.True(reranker.Synthetic);
        Assert.Equal("", reranker.Pooling);
        Assert.Equal(512u, reranker.MaxLength);
    }
}
