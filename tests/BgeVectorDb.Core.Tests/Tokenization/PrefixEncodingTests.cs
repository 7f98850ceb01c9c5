using System.Text.Json;
using BgeVectorDb.Core.Inference.Tokenization;

namespace BgeVectorDb.Core.Tests.Tokenization;

/// <summary>Truncated encodings (which tokenize only a prefix of long texts) equal truncating the
/// full tokenization, for both families, on real corpus text.</summary>
public sealed class PrefixEncodingTests
{
    private static List<string> LongTexts()
    {
        string corpus = Path.Combine(SharedData.SciFact, "corpus.jsonl");
        List<string> docs = File.ReadLines(corpus).Take(120)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()!)
            .ToList();
        var texts = new List<string>();
        for (int i = 0; i < docs.Count; i += 20)
        {
            texts.Add(string.Join("  \n ", docs.Skip(i).Take(20)));
        }

        texts.Add(string.Concat(Enumerable.Repeat("北京大学的研究表明，", 400)));
        texts.Add(string.Join(' ', Enumerable.Repeat("Café naïve résumé 3.14", 500)) + string.Concat(Enumerable.Repeat("x", 5000)));
        texts.Add(string.Join(' ', Enumerable.Repeat(new string('a', 300), 40)));
        return texts;
    }

    private static int[] Take(IReadOnlyList<int> ids, int count) => ids.Take(count).ToArray();

    [Fact]
    public void Bert_TruncatedEncodeEqualsFullEncodeTruncated()
    {
        var tok = BertModelTokenizer.FromVocabFile(SharedData.BertVocab, new BertTokenizerSettings());
        List<string> texts = LongTexts();
        foreach (string text in texts)
        {
            IReadOnlyList<int> full = tok.ContentIds(text);
            foreach (int max in new[] { 2, 3, 17, 128, 512, 4096 })
            {
                Assert.Equal([101, .. Take(full, max - 2), 102], tok.Encode(text, max).InputIds);
            }

            foreach (string query in new[] { "short query", texts[0] })
            {
                IReadOnlyList<int> q = tok.ContentIds(query);
                (int kq, int kd) = PairTruncation.Pair(q.Count, full.Count, 509);
                Assert.Equal([101, .. Take(q, kq), 102, .. Take(full, kd), 102], tok.EncodePair(query, text, 512).InputIds);
            }
        }
    }

    [Fact]
    public void XlmRoberta_TruncatedEncodeEqualsFullEncodeTruncated()
    {
        var tok = XlmRobertaModelTokenizer.FromSentencePieceModel(SentencePieceTestModel.ModelPath);
        List<string> texts = LongTexts();
        foreach (string text in texts)
        {
            int[] full = tok.ContentIds(text);
            foreach (int max in new[] { 2, 3, 17, 128, 512, 4096 })
            {
                Assert.Equal([0, .. Take(full, max - 2), 2], tok.Encode(text, max).InputIds);
            }

            foreach (string query in new[] { "short query", texts[0] })
            {
                int[] q = tok.ContentIds(query);
                (int kq, int kd) = PairTruncation.Pair(q.Length, full.Length, 508);
                Assert.Equal([0, .. Take(q, kq), 2, 2, .. Take(full, kd), 2], tok.EncodePair(query, text, 512).InputIds);
            }
        }
    }
}
