using System.Text.Json;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Tokenization;

namespace BgeVectorDb.Core.Tests.Tokenization;

/// <summary>
/// XLM-RoBERTa tokenization with the SciFact-trained SentencePiece model. The reference ids come
/// from Debian's spm_encode on the same model, shifted the fairseq way (+1, unknown 0 -> 3).
/// </summary>
public sealed class XlmRobertaModelTokenizerTests
{
    private static readonly Lazy<XlmRobertaModelTokenizer> FromModel = new(() =>
        XlmRobertaModelTokenizer.FromSentencePieceModel(SentencePieceTestModel.ModelPath));

    private static readonly string[] Texts =
    [
        "Hello world",
        "Alterations of the architecture of cerebral white matter in the developing human brain.",
        "Myelodysplastic syndromes (MDS) are age-dependent stem cell malignancies.",
        "Café naïve résumé — 3.14 and 2,000 tokens!",
        "  leading, trailing   and   repeated   spaces  ",
        "Fullwidth ＡＢＣ１２３ and ligature ﬁ (NFKC)",
        "北京大学 and emoji 😀 are unknown here",
        "x",
        "",
    ];

    private static int[] Fairseq(int[] spmIds) => spmIds.Select(id => id == 0 ? 3 : id + 1).ToArray();

    [Fact]
    public void Encode_IsSpmEncodeIdsPlusOne_WithBosEos()
    {
        List<int[]> reference = SentencePieceTestModel.SpmEncode(Texts);
        XlmRobertaModelTokenizer tok = FromModel.Value;
        for (int i = 0; i < Texts.Length; i++)
        {
            EncodedInput e = tok.Encode(Texts[i], 512);
            Assert.Equal([0, .. Fairseq(reference[i]), 2], e.InputIds);
            Assert.Null(e.TokenTypeIds);
            Assert.Equal(reference[i].Length, tok.CountTokens(Texts[i]));
        }

        Assert.Equal("xlm-roberta", tok.Family);
        Assert.Equal(1, tok.PadId);
    }

    [Fact]
    public void Encode_UnknownCharactersMapTo3()
    {
        List<int[]> reference = SentencePieceTestModel.SpmEncode(["北京大学 😀"]);
        Assert.Contains(0, reference[0]); // spm's own <unk> id

        int[] ids = FromModel.Value.Encode("北京大学 😀", 512).InputIds;
        Assert.Contains(3, ids);
        Assert.DoesNotContain(1, ids); // spm unk 0 must not become 0 + 1 = <pad>
        Assert.Equal([0, .. Fairseq(reference[0]), 2], ids);
    }

    [Fact]
    public void Encode_CorpusDocuments_MatchSpmEncode()
    {
        string corpus = Path.Combine(SharedData.SciFact, "corpus.jsonl");
        var texts = File.ReadLines(corpus).Take(50)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("text").GetString()!)
            .Select(t => t.Replace('\n', ' ').Replace('\r', ' '))
            .ToList();
        List<int[]> reference = SentencePieceTestModel.SpmEncode(texts);
        for (int i = 0; i < texts.Count; i++)
        {
            Assert.Equal(Fairseq(reference[i]), FromModel.Value.ContentIds(texts[i]));
        }
    }

    [Fact]
    public void Encode_Long_TruncatedEndingWithEos()
    {
        string text = string.Join(' ', Enumerable.Repeat("cerebral white matter", 400));
        int[] content = Fairseq(SentencePieceTestModel.SpmEncode([text])[0]);
        Assert.True(content.Length > 600);

        EncodedInput e = FromModel.Value.Encode(text, 512);

        Assert.Equal(512, e.Length);
        Assert.Equal([0, .. content[..510], 2], e.InputIds);
    }

    [Fact]
    public void EncodePair_Layout_BosQueryEosEosDocEos()
    {
        List<int[]> reference = SentencePieceTestModel.SpmEncode(["what is white matter?", "Cerebral white matter develops."]);
        int[] q = Fairseq(reference[0]);
        int[] d = Fairseq(reference[1]);

        EncodedInput e = FromModel.Value.EncodePair("what is white matter?", "Cerebral white matter develops.", 512);

        Assert.Equal([0, .. q, 2, 2, .. d, 2], e.InputIds);
        Assert.Null(e.TokenTypeIds);
    }

    [Fact]
    public void EncodePair_LongDocument_TruncatedFirst()
    {
        string query = "what is white matter?";
        string doc = string.Join(' ', Enumerable.Repeat("cerebral white matter", 400));
        List<int[]> reference = SentencePieceTestModel.SpmEncode([query, doc]);
        int[] q = Fairseq(reference[0]);
        int[] d = Fairseq(reference[1]);

        EncodedInput e = FromModel.Value.EncodePair(query, doc, 64);

        Assert.Equal(64, e.Length);
        Assert.Equal([0, .. q, 2, 2, .. d[..(64 - 4 - q.Length)], 2], e.InputIds);
    }

    [Fact]
    public void EncodePair_QueryLongerThanLimit_QueryCutOneDocTokenKept()
    {
        string query = string.Join(' ', Enumerable.Repeat("cerebral white matter", 50));
        string doc = "brain development";
        List<int[]> reference = SentencePieceTestModel.SpmEncode([query, doc]);
        int[] q = Fairseq(reference[0]);
        int[] d = Fairseq(reference[1]);
        Assert.True(q.Length > 32);

        EncodedInput e = FromModel.Value.EncodePair(query, doc, 32);

        Assert.Equal([0, .. q[..27], 2, 2, d[0], 2], e.InputIds);
    }

    [Fact]
    public void TokenizerJson_GivesSameIdsAsSentencePieceModel()
    {
        using var temp = new TempDirectory("bgevdb-xlmr");
        string dir = temp.Path;
        string json = Path.Combine(dir, "tokenizer.json");
        TokenizerJsonWriter.WriteXlmRobertaTokenizerJson(SentencePieceTestModel.ModelPath, json);
        XlmRobertaModelTokenizer fromJson = XlmRobertaModelTokenizer.FromTokenizerJson(json);

        List<int[]> reference = SentencePieceTestModel.SpmEncode(Texts);
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal([0, .. Fairseq(reference[i]), 2], fromJson.Encode(Texts[i], 512).InputIds);
            Assert.Equal(
                FromModel.Value.EncodePair(Texts[i], Texts[^(i + 1)], 40).InputIds,
                fromJson.EncodePair(Texts[i], Texts[^(i + 1)], 40).InputIds);
        }
    }

    [Fact]
    public void TokenizerJson_VocabIdsAreFinal_MaskIsLastAndNotMatchedInText()
    {
        using var temp = new TempDirectory("bgevdb-xlmr");
        string dir = temp.Path;
        string json = Path.Combine(dir, "tokenizer.json");
        TokenizerJsonWriter.WriteXlmRobertaTokenizerJson(SentencePieceTestModel.ModelPath, json);
        XlmRobertaModelTokenizer fromJson = XlmRobertaModelTokenizer.FromTokenizerJson(json);

        Assert.Equal(
            FromModel.Value.Encode("a <mask> b </s> <s>", 512).InputIds,
            fromJson.Encode("a <mask> b </s> <s>", 512).InputIds);
        Assert.DoesNotContain(8001, fromJson.Encode("a <mask> b", 512).InputIds); // <mask> = 8000 pieces + 1
    }
}
