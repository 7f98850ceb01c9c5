using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Tokenization;

namespace BgeVectorDb.Core.Tests.Tokenization;

public sealed class ModelTokenizerFactoryTests : IDisposable
{
    private readonly TempDirectory _dir = new("bgevdb-factory");

    public void Dispose() => _dir.Dispose();

    private void Write(string name, string content) => File.WriteAllText(Path.Combine(_dir.Path, name), content);

    [Fact]
    public void Bert_FromVocabAndTokenizerConfig()
    {
        Write("config.json", """{"model_type": "bert", "hidden_size": 384}""");
        Write("tokenizer_config.json", """{"do_lower_case": true, "model_max_length": 512}""");
        File.Copy(SharedData.BertVocab, Path.Combine(_dir.Path, "vocab.txt"));

        IModelTokenizer tok = ModelTokenizerFactory.FromModelFolder(_dir.Path, null);

        Assert.Equal("bert", tok.Family);
        Assert.Equal(0, tok.PadId);
        Assert.Equal([101, 7668, 102], tok.Encode("Café", 512).InputIds);
        string text = string.Join(' ', Enumerable.Repeat("hello", 600));
        Assert.Equal(512, tok.Encode(text, 4096).Length); // capped by model_max_length
        Assert.Equal(600, tok.CountTokens(text));
    }

    [Fact]
    public void Bert_ExplicitMaxLengthCaps()
    {
        Write("config.json", """{"model_type": "bert"}""");
        File.Copy(SharedData.BertVocab, Path.Combine(_dir.Path, "vocab.txt"));

        IModelTokenizer tok = ModelTokenizerFactory.FromModelFolder(_dir.Path, 16);

        EncodedInput e = tok.EncodePair("hello", string.Join(' ', Enumerable.Repeat("world", 100)), 512);
        Assert.Equal(16, e.Length);
        Assert.Equal(102, e.InputIds[^1]);
    }

    [Fact]
    public void XlmRoberta_FromSentencePieceModel_AndFromTokenizerJson_Agree()
    {
        Write("config.json", """{"model_type": "xlm-roberta"}""");
        File.Copy(SentencePieceTestModel.ModelPath, Path.Combine(_dir.Path, "sentencepiece.bpe.model"));
        IModelTokenizer fromModel = ModelTokenizerFactory.FromModelFolder(_dir.Path, null);

        File.Delete(Path.Combine(_dir.Path, "sentencepiece.bpe.model"));
        TokenizerJsonWriter.WriteXlmRobertaTokenizerJson(SentencePieceTestModel.ModelPath, Path.Combine(_dir.Path, "tokenizer.json"));
        IModelTokenizer fromJson = ModelTokenizerFactory.FromModelFolder(_dir.Path, null);

        Assert.Equal("xlm-roberta", fromModel.Family);
        Assert.Equal("xlm-roberta", fromJson.Family);
        EncodedInput a = fromModel.EncodePair("white matter", "Cerebral white matter in newborns.", 512);
        EncodedInput b = fromJson.EncodePair("white matter", "Cerebral white matter in newborns.", 512);
        Assert.Equal(a.InputIds, b.InputIds);
        Assert.Equal(0, a.InputIds[0]);
        Assert.Equal(2, a.InputIds[^1]);
    }

    [Fact]
    public void MissingConfig_NamesTheFile()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => ModelTokenizerFactory.FromModelFolder(_dir.Path, null));
        Assert.Contains("config.json", ex.Message);
    }

    [Fact]
    public void BertWithoutVocab_NamesTheFile()
    {
        Write("config.json", """{"model_type": "bert"}""");
        var ex = Assert.Throws<FileNotFoundException>(() => ModelTokenizerFactory.FromModelFolder(_dir.Path, null));
        Assert.Contains("vocab.txt", ex.Message);
    }

    [Fact]
    public void XlmRobertaWithoutTokenizerFiles_NamesBothFiles()
    {
        Write("config.json", """{"model_type": "xlm-roberta"}""");
        var ex = Assert.Throws<FileNotFoundException>(() => ModelTokenizerFactory.FromModelFolder(_dir.Path, null));
        Assert.Contains("sentencepiece.bpe.model", ex.Message);
        Assert.Contains("tokenizer.json", ex.Message);
    }

    [Fact]
    public void UnsupportedModelType_Throws()
    {
        Write("config.json", """{"model_type": "gpt2"}""");
        var ex = Assert.Throws<NotSupportedException>(() => ModelTokenizerFactory.FromModelFolder(_dir.Path, null));
        Assert.Contains("gpt2", ex.Message);
    }
}
