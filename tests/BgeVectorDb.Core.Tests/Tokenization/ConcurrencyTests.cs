using System.Text.Json;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Tokenization;

namespace BgeVectorDb.Core.Tests.Tokenization;

/// <summary>One tokenizer instance is shared by concurrent embedding/rerank requests.</summary>
public sealed class ConcurrencyTests
{
    public static TheoryData<string> Families => new() { "bert", "xlm-roberta" };

    [Theory]
    [MemberData(nameof(Families))]
    public void ParallelEncodes_EqualSequentialEncodes(string family)
    {
        IModelTokenizer tok = family == "bert"
            ? BertModelTokenizer.FromVocabFile(SharedData.BertVocab, new BertTokenizerSettings())
            : XlmRobertaModelTokenizer.FromSentencePieceModel(SentencePieceTestModel.ModelPath);
        string corpus = Path.Combine(SharedData.SciFact, "corpus.jsonl");
        string[] texts = File.ReadLines(corpus).Take(400)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()!)
            .ToArray();
        int[][] sequential = texts.Select(t => tok.EncodePair("what is it?", t, 256).InputIds).ToArray();

        var parallel = new int[texts.Length][];
        Parallel.For(0, texts.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            int k = i % texts.Length;
            int[] ids = tok.EncodePair("what is it?", texts[k], 256).InputIds;
            if (i >= texts.Length * 3)
            {
                parallel[k] = ids;
            }
            else
            {
                Assert.Equal(sequential[k], ids);
            }
        });

        for (int k = 0; k < texts.Length; k++)
        {
            Assert.Equal(sequential[k], parallel[k]);
        }
    }
}
