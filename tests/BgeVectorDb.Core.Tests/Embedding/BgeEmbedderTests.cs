using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Tokenization;
using BgeVectorDb.Core.Tests.Inference;

namespace BgeVectorDb.Core.Tests.Embedding;

public sealed class BgeEmbedderTests : IDisposable
{
    private static readonly OnnxSessionFactory Factory = new(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });

    private const string Short = "Vitamin D.";
    private const string Medium = "Aspirin reduces the risk of heart attack in adults with known cardiovascular disease.";
    private static readonly string Long = string.Join(' ', Enumerable.Repeat(
        "Randomised controlled trials of statins showed lower LDL cholesterol and fewer coronary events over five years.", 6));

    private readonly BgeEmbedder _embedder = BgeEmbedder.Load(TestModels.TinyBertEmbedder.Folder, "BAAI/bge-small-en-v1.5", Factory,
        new BgeEmbedderOptions { Batching = new() { MaxBatchTokens = 4096, MaxBatchRows = 8 } });

    public void Dispose() => _embedder.Dispose();

    [Fact]
    public async Task Vectors_HaveTheModelDimension_AndUnitNorm()
    {
        Assert.Equal(32, _embedder.Dimension);
        var vectors = await _embedder.EmbedDocumentsAsync([Short, Medium, Long, ""]);
        Assert.Equal(4, vectors.Length);
        Assert.All(vectors, v =>
        {
            Assert.Equal(32, v.Length);
            Assert.InRange(ManualOrt.Norm(v), 1 - 1e-5, 1 + 1e-5);
        });
        Assert.NotEqual(vectors[0], vectors[1]);
    }

    [Fact]
    public async Task Vector_EqualsAManualOrtRunWithClsPoolingAndNormalisation()
    {
        var ids = _embedder.Tokenizer.Encode(Medium, _embedder.MaxLength);
        var expected = ManualOrt.ClsNormalized(_embedder.Model.Session, ids);

        var actual = (await _embedder.EmbedDocumentsAsync([Medium]))[0];

        ManualOrt.AssertClose(expected, actual, 1e-5);
    }

    [Fact]
    public async Task SameText_AloneOrBatchedWithLongerAndShorterTexts_GivesTheSameVector()
    {
        var alone = (await _embedder.EmbedDocumentsAsync([Medium]))[0];
        // Several batches (8 rows max): Medium shares a batch with both longer and shorter, padded rows.
        string[] mixed = [Long, Short, Medium, Long + " extra", Short + " again", Medium, "x", Long, Medium + " more", Short];
        var batched = await _embedder.EmbedDocumentsAsync(mixed);

        ManualOrt.AssertClose(alone, batched[2], 1e-5);
        ManualOrt.AssertClose(alone, batched[5], 1e-5);
        for (int i = 0; i < mixed.Length; i++)
        {
            var single = ManualOrt.ClsNormalized(_embedder.Model.Session, _embedder.Tokenizer.Encode(mixed[i], _embedder.MaxLength));
            ManualOrt.AssertClose(single, batched[i], 1e-5);
        }
    }

    [Fact]
    public async Task QueryInstruction_ChangesTheVector_AndEqualsTheConcatenatedDocument()
    {
        const string query = "does aspirin prevent heart attacks";
        var withInstruction = await _embedder.EmbedQueryAsync(query, _embedder.DefaultQueryInstruction);
        var without = await _embedder.EmbedQueryAsync(query, "");
        var asDocument = (await _embedder.EmbedDocumentsAsync([QueryInstructions.English + query, query]))!;

        Assert.Equal(QueryInstructions.English, _embedder.DefaultQueryInstruction);
        ManualOrt.AssertClose(asDocument[0], withInstruction, 1e-5);
        ManualOrt.AssertClose(asDocument[1], without, 1e-5);
        double cosine = withInstruction.Zip(without, (a, b) => (double)a * b).Sum();
        Assert.True(cosine < 0.9999, $"instruction did not change the vector (cosine {cosine})");
    }

    [Fact]
    public async Task ConcurrentCallers_GetTheSameVectorsAsSequentialOnes()
    {
        string[] texts = [Short, Medium, Long, "protein folding", "gene expression in mice"];
        var expected = await _embedder.EmbedDocumentsAsync(texts);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => _embedder.EmbedDocumentsAsync(texts.Skip(i % texts.Length).Concat(texts.Take(i % texts.Length)).ToArray()))));
        for (int i = 0; i < results.Length; i++)
        {
            for (int j = 0; j < texts.Length; j++)
            {
                ManualOrt.AssertClose(expected[(j + i) % texts.Length], results[i][j], 1e-5);
            }
        }
    }

    [Fact]
    public async Task LongTexts_AreTruncatedToMaxLength_CappedByMaxPositionEmbeddings()
    {
        using var embedder = BgeEmbedder.Load(TestModels.TinyBertEmbedder.Folder, "custom", Factory, new BgeEmbedderOptions { MaxLength = 4096 });
        Assert.Equal(512, embedder.MaxLength); // config.json max_position_embeddings = 512 (BERT)

        var huge = string.Join(' ', Enumerable.Repeat("cholesterol", 3000));
        Assert.Equal(512, embedder.Tokenizer.Encode(huge, embedder.MaxLength).Length);
        var vector = (await embedder.EmbedDocumentsAsync([huge]))[0];
        Assert.InRange(ManualOrt.Norm(vector), 1 - 1e-5, 1 + 1e-5);

        using var short16 = BgeEmbedder.Load(TestModels.TinyBertEmbedder.Folder, "custom", Factory, new BgeEmbedderOptions { MaxLength = 16 });
        var truncated = (await short16.EmbedDocumentsAsync([Long]))[0];
        var expected = ManualOrt.ClsNormalized(short16.Model.Session, short16.Tokenizer.Encode(Long, 16));
        Assert.Equal(16, short16.Tokenizer.Encode(Long, 16).Length);
        ManualOrt.AssertClose(expected, truncated, 1e-5);
    }

    [Fact]
    public void DefaultQueryInstruction_FollowsTheModelId_UnlessConfigured()
    {
        using var zh = BgeEmbedder.Load(TestModels.TinyBertEmbedder.Folder, "BAAI/bge-small-zh-v1.5", Factory);
        Assert.Equal("为这个句子生成表示以用于检索相关文章：", zh.DefaultQueryInstruction);
        Assert.Equal(QueryInstructions.English, _embedder.DefaultQueryInstruction);
        using var custom = BgeEmbedder.Load(TestModels.TinyBertEmbedder.Folder, "BAAI/bge-small-zh-v1.5", Factory,
            new BgeEmbedderOptions { QueryInstruction = "query: " });
        Assert.Equal("query: ", custom.DefaultQueryInstruction);
    }

    [Fact]
    public async Task CancelledRequest_IsCancelled()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _embedder.EmbedDocumentsAsync([Medium], cts.Token));
    }
}
