using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Batching;
using BgeVectorDb.Core.Reranking;
using BgeVectorDb.Core.Tests.Inference;

namespace BgeVectorDb.Core.Tests.Reranking;

public sealed class CrossEncoderRerankerTests
{
    private static readonly OnnxSessionFactory Factory = new(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });

    private const string Query = "does aspirin prevent heart attacks";

    private static readonly string[] Documents =
    [
        "Aspirin reduces the risk of heart attack in adults with known cardiovascular disease.",
        "Vitamin D.",
        string.Join(' ', Enumerable.Repeat("Statins lower LDL cholesterol and reduce coronary events in long trials.", 5)),
        "Mice lacking the gene showed altered immune responses.",
        "",
    ];

    public static TheoryData<string> Families => new() { "bert", "xlm-roberta" };

    private static CrossEncoderReranker Load(string family, CrossEncoderOptions? options = null)
    {
        var model = family == "bert" ? TestModels.TinyBertCross : TestModels.TinyXlmrCross;
        return CrossEncoderReranker.Load(model.Folder, "test/" + family, Factory, options);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Scores_EqualAManualOrtRunOnTheTokenizersPairEncoding(string family)
    {
        using var reranker = Load(family);
        Assert.Equal(family, reranker.Tokenizer.Family);
        Assert.Equal(family == "bert", reranker.Model.HasTokenTypeIds);

        var scores = await reranker.ScoreAsync(Query, Documents);

        Assert.Equal(Documents.Length, scores.Length);
        for (int i = 0; i < Documents.Length; i++)
        {
            var pair = reranker.Tokenizer.EncodePair(Query, Documents[i], reranker.MaxLength);
            Assert.Equal(family == "bert", pair.TokenTypeIds is not null);
            var expected = ManualOrt.Logit(reranker.Model.Session, pair);
            Assert.True(Math.Abs(expected - scores[i]) <= 1e-5, $"doc {i}: expected {expected}, actual {scores[i]}");
        }

        Assert.True(scores.Distinct().Count() == scores.Length, "scores should differ between documents");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task BatchedScores_EqualOneAtATimeScores(string family)
    {
        using var reranker = Load(family);
        var batched = await reranker.ScoreAsync(Query, Documents);
        for (int i = 0; i < Documents.Length; i++)
        {
            var single = await reranker.ScoreAsync(Query, [Documents[i]]);
            Assert.True(Math.Abs(single[0] - batched[i]) <= 1e-5, $"doc {i}: single {single[0]}, batched {batched[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task SigmoidOption_ReturnsSigmoidOfTheLogits(string family)
    {
        using var raw = Load(family);
        using var sigmoid = Load(family, new CrossEncoderOptions { ApplySigmoid = true });
        var logits = await raw.ScoreAsync(Query, Documents);
        var probabilities = await sigmoid.ScoreAsync(Query, Documents);
        for (int i = 0; i < logits.Length; i++)
        {
            double expected = 1.0 / (1.0 + Math.Exp(-logits[i]));
            Assert.True(Math.Abs(expected - probabilities[i]) <= 1e-6, $"doc {i}: expected {expected}, actual {probabilities[i]}");
            Assert.InRange(probabilities[i], 0f, 1f);
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task ThreeHundredDocuments_AreScoredInSeveralBatches_InTheRightOrder(string family)
    {
        using var reranker = Load(family, new CrossEncoderOptions { Batching = new InferenceBatcherOptions { MaxBatchTokens = 2048, MaxBatchRows = 32 } });
        var random = new Random(3);
        string[] words = ["protein", "cell", "aspirin", "cancer", "gene", "trial", "risk", "mice", "dose", "vitamin", "heart", "immune"];
        var documents = Enumerable.Range(0, 300)
            .Select(i => $"doc {i} " + string.Join(' ', Enumerable.Range(0, random.Next(1, 60)).Select(_ => words[random.Next(words.Length)])))
            .ToArray();
        int batches = 0;
        reranker.Batcher.Observer = rows =>
        {
            batches++;
            Assert.InRange(rows.Length, 1, 32);
        };

        var scores = await reranker.ScoreAsync(Query, documents);

        Assert.Equal(300, scores.Length);
        Assert.True(batches >= 10, $"{batches} batches");
        for (int i = 0; i < documents.Length; i++)
        {
            var expected = ManualOrt.Logit(reranker.Model.Session, reranker.Tokenizer.EncodePair(Query, documents[i], reranker.MaxLength));
            Assert.True(Math.Abs(expected - scores[i]) <= 1e-5, $"doc {i}: expected {expected}, actual {scores[i]}");
        }
    }

    [Fact]
    public async Task NoDocuments_GiveNoScores()
    {
        using var reranker = Load("bert");
        Assert.Empty(await reranker.ScoreAsync(Query, []));
    }

    [Fact]
    public void XlmRobertaMaxLength_IsMaxPositionsMinusTwo()
    {
        using var reranker = Load("xlm-roberta", new CrossEncoderOptions { MaxLength = 4096 });
        Assert.Equal(512, reranker.MaxLength); // 514 - 2
    }

    [Fact]
    public void Sigmoid_IsStableAtTheExtremes()
    {
        Assert.Equal(0.5f, CrossEncoderReranker.Sigmoid(0f));
        Assert.Equal(1f, CrossEncoderReranker.Sigmoid(1000f));
        Assert.Equal(0f, CrossEncoderReranker.Sigmoid(-1000f));
    }
}
