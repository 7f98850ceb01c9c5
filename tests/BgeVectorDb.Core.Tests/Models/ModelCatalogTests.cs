using BgeVectorDb.Common.Models;

namespace BgeVectorDb.Core.Tests.Models;

public sealed class ModelCatalogTests
{
    [Theory]
    [InlineData("BAAI/bge-small-en-v1.5", 384, "en")]
    [InlineData("BAAI/bge-base-en-v1.5", 768, "en")]
    [InlineData("BAAI/bge-large-en-v1.5", 1024, "en")]
    [InlineData("BAAI/bge-small-zh-v1.5", 512, "zh")]
    [InlineData("BAAI/bge-base-zh-v1.5", 768, "zh")]
    [InlineData("BAAI/bge-large-zh-v1.5", 1024, "zh")]
    public void EmbeddingModels_HaveDimensionInstructionAndBertFiles(string id, int dimension, string language)
    {
        Assert.True(ModelCatalog.TryGet(id, out var d));
        Assert.Equal(ModelKind.Embedding, d.Kind);
        Assert.Equal("bert", d.Family);
        Assert.Equal(dimension, d.Dimension);
        Assert.Equal(language == "en" ? "Represent this sentence for searching relevant passages: " : "为这个句子生成表示以用于检索相关文章：",
            d.QueryInstruction);
        var required = d.Required.Select(r => r.ToString()).ToList();
        Assert.Equal(["config.json", "onnx/model.onnx or model.onnx", "vocab.txt", "tokenizer_config.json"], required);
    }

    [Theory]
    [InlineData("BAAI/bge-reranker-base")]
    [InlineData("BAAI/bge-reranker-large")]
    [InlineData("BAAI/bge-reranker-v2-m3")]
    public void Rerankers_AreXlmRobertaCrossEncoders_PreferringTokenizerJson(string id)
    {
        Assert.True(ModelCatalog.TryGet(id, out var d));
        Assert.Equal(ModelKind.Reranker, d.Kind);
        Assert.Equal("xlm-roberta", d.Family);
        Assert.Null(d.QueryInstruction);
        Assert.Equal(["tokenizer.json", "sentencepiece.bpe.model"], d.Required.Last().Candidates);
    }

    [Fact]
    public void Lookup_IsCaseInsensitive_AcceptsBareNames_AndExcludesBgeM3()
    {
        Assert.True(ModelCatalog.TryGet("baai/BGE-SMALL-EN-V1.5", out var a));
        Assert.Equal("BAAI/bge-small-en-v1.5", a.Id);
        Assert.True(ModelCatalog.TryGet("bge-reranker-base", out var b));
        Assert.Equal("BAAI/bge-reranker-base", b.Id);
        Assert.False(ModelCatalog.TryGet("BAAI/bge-m3", out _));
        Assert.Equal(9, ModelCatalog.All.Count);

        var own = ModelCatalog.Describe("me/custom");
        Assert.False(own.IsKnown);
        Assert.Null(own.Family);
        Assert.Null(own.Kind);
    }

    [Fact]
    public void Options_Validator_RejectsBadValues()
    {
        var ok = new ModelOptionsValidator().Validate(null, new ModelOptions { CacheFolder = "/tmp/x", HubEndpoint = "https://huggingface.co" });
        Assert.True(ok.Succeeded);
        var bad = new ModelOptionsValidator().Validate(null, new ModelOptions
        {
            CacheFolder = "", HubEndpoint = "ftp://x", Revision = " ", DownloadTimeout = TimeSpan.Zero,
        });
        Assert.True(bad.Failed);
        Assert.Equal(4, bad.Failures!.Count());
    }
}
