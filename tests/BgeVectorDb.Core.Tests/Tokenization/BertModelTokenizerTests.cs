using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Tokenization;

namespace BgeVectorDb.Core.Tests.Tokenization;

/// <summary>
/// BERT tokenization against the real bert-base-uncased vocabulary. Expected ids are looked up in
/// vocab.txt (id = line number - 1) from hand-written token strings, and the key ones are also
/// spelled out as literals checked against the file.
/// </summary>
public sealed class BertModelTokenizerTests
{
    private static readonly Lazy<string[]> VocabLines = new(() => File.ReadAllLines(SharedData.BertVocab));
    private static readonly Lazy<BertModelTokenizer> Uncased = new(() =>
        BertModelTokenizer.FromVocabFile(SharedData.BertVocab, new BertTokenizerSettings()));

    private const int Cls = 101;
    private const int Sep = 102;

    private static int Id(string token)
    {
        int index = Array.IndexOf(VocabLines.Value, token);
        Assert.True(index >= 0, $"'{token}' is not a line of vocab.txt");
        return index;
    }

    private static int[] Ids(params string[] tokens) => tokens.Select(Id).ToArray();

    [Fact]
    public void SpecialTokenIds_MatchVocabFile()
    {
        Assert.Equal(0, Id("[PAD]"));
        Assert.Equal(100, Id("[UNK]"));
        Assert.Equal(Cls, Id("[CLS]"));
        Assert.Equal(Sep, Id("[SEP]"));
        Assert.Equal(0, Uncased.Value.PadId);
        Assert.Equal("bert", Uncased.Value.Family);
    }

    [Fact]
    public void Encode_StripsAccentsWhenLowercasing()
    {
        EncodedInput e = Uncased.Value.Encode("Café naïve résumé", 512);

        Assert.Equal([Cls, .. Ids("cafe", "naive", "resume"), Sep], e.InputIds);
        Assert.Equal([101, 7668, 15743, 13746, 102], e.InputIds);
        Assert.Equal(new int[5], e.TokenTypeIds);
    }

    [Fact]
    public void Encode_SplitsCjkIntoSingleCharacters()
    {
        EncodedInput e = Uncased.Value.Encode("北京大学", 512);

        Assert.Equal([Cls, .. Ids("北", "京", "大", "学"), Sep], e.InputIds);
        Assert.Equal([101, 1781, 1755, 1810, 1817, 102], e.InputIds);
    }

    [Fact]
    public void Encode_SplitsPunctuationAndNumbers()
    {
        EncodedInput e = Uncased.Value.Encode("Hello, world! It's 3.14 and 2,000 tokens.", 512);

        int[] expected =
        [
            Cls,
            .. Ids("hello", ",", "world", "!", "it", "'", "s", "3", ".", "14", "and", "2", ",", "000", "token", "##s", "."),
            Sep,
        ];
        Assert.Equal(expected, e.InputIds);
        Assert.Equal(
            [101, 7592, 1010, 2088, 999, 2009, 1005, 1055, 1017, 1012, 2403, 1998, 1016, 1010, 2199, 19204, 2015, 1012, 102],
            e.InputIds);
        Assert.Equal(17, Uncased.Value.CountTokens("Hello, world! It's 3.14 and 2,000 tokens."));
    }

    [Fact]
    public void Encode_UnknownCharacterGivesUnk()
    {
        // U+2603 SNOWMAN is not in the vocabulary: one [UNK] for the word.
        EncodedInput e = Uncased.Value.Encode("hello \u2603", 512);
        Assert.Equal([Cls, Id("hello"), Id("[UNK]"), Sep], e.InputIds);
    }

    [Fact]
    public void Encode_TabsAndNewlinesSeparateWords()
    {
        // Reference BERT turns \t \n \r into spaces (Microsoft.ML.Tokenizers 2.0.1's BertTokenizer deletes them).
        EncodedInput e = Uncased.Value.Encode("hello\tworld\nhello\r\nworld\u00a0token", 512);
        Assert.Equal([Cls, .. Ids("hello", "world", "hello", "world", "token"), Sep], e.InputIds);
    }

    [Fact]
    public void Encode_AsciiSymbolsArePunctuationTokens()
    {
        // Reference BERT treats every ASCII non-alphanumeric character as punctuation.
        EncodedInput e = Uncased.Value.Encode("$5 + 3 = 8 <a|b> ~x^ `y`", 512);
        int[] expected =
        [
            Cls,
            .. Ids("$", "5", "+", "3", "=", "8", "<", "a", "|", "b", ">", "~", "x", "^", "`", "y", "`"),
            Sep,
        ];
        Assert.Equal(expected, e.InputIds);
        Assert.Equal(1002, Id("$"));
    }

    [Fact]
    public void Encode_NonPunctuationSymbolsStayInsideWords()
    {
        // "©" (So) is a word of its own here and in the vocabulary; "snow\u2603man" is one word whose
        // snowman has no piece, so the whole word is [UNK]; control characters are dropped.
        EncodedInput e = Uncased.Value.Encode("\u00a9 snow\u2603man he\u0007llo\u200b", 512);
        Assert.Equal([Cls, 1075, Id("[UNK]"), Id("hello"), Sep], e.InputIds);
        Assert.Equal(1075, Id("\u00a9"));
    }

    [Fact]
    public void Encode_WordLongerThan100Chars_IsUnk()
    {
        EncodedInput e = Uncased.Value.Encode("hello " + new string('a', 101) + " world", 512);
        Assert.Equal([Cls, Id("hello"), Id("[UNK]"), Id("world"), Sep], e.InputIds);
    }

    [Fact]
    public void Encode_600Tokens_TruncatesTo512EndingWithSep()
    {
        string text = string.Join(' ', Enumerable.Repeat("hello", 600));
        Assert.Equal(600, Uncased.Value.CountTokens(text));

        EncodedInput e = Uncased.Value.Encode(text, 512);

        Assert.Equal(512, e.Length);
        Assert.Equal(101, e.InputIds[0]);
        Assert.Equal(102, e.InputIds[511]);
        Assert.All(e.InputIds[1..511], id => Assert.Equal(7592, id));
        Assert.Equal(512, e.TokenTypeIds!.Length);
        Assert.All(e.TokenTypeIds, t => Assert.Equal(0, t));
    }

    [Fact]
    public void Encode_EmptyText_IsClsSep()
    {
        Assert.Equal([Cls, Sep], Uncased.Value.Encode("", 512).InputIds);
        Assert.Equal([Cls, Sep], Uncased.Value.Encode("hello world", 2).InputIds);
    }

    [Fact]
    public void EncodePair_FitsWithoutTruncation_LayoutAndTypes()
    {
        EncodedInput e = Uncased.Value.EncodePair("hello world", "Café 北京", 512);

        Assert.Equal([Cls, Id("hello"), Id("world"), Sep, Id("cafe"), Id("北"), Id("京"), Sep], e.InputIds);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1], e.TokenTypeIds!);
    }

    [Fact]
    public void EncodePair_LongDocument_IsTruncatedQueryKept()
    {
        string doc = string.Join(' ', Enumerable.Repeat("world", 600));

        EncodedInput e = Uncased.Value.EncodePair("hello, it's 3.14", doc, 32);

        int[] query = Ids("hello", ",", "it", "'", "s", "3", ".", "14");
        int docTokens = 32 - 3 - query.Length;
        int[] expected = [Cls, .. query, Sep, .. Enumerable.Repeat(Id("world"), docTokens), Sep];
        Assert.Equal(expected, e.InputIds);
        int[] types = [.. new int[query.Length + 2], .. Enumerable.Repeat(1, docTokens + 1)];
        Assert.Equal(types, e.TokenTypeIds);
    }

    [Fact]
    public void EncodePair_QueryLongerThanLimit_QueryCutAndOneDocumentTokenKept()
    {
        string query = string.Join(' ', Enumerable.Repeat("hello", 100));

        EncodedInput e = Uncased.Value.EncodePair(query, "world world", 16);

        int[] expected = [Cls, .. Enumerable.Repeat(Id("hello"), 12), Sep, Id("world"), Sep];
        Assert.Equal(expected, e.InputIds);
        Assert.Equal([.. new int[14], 1, 1], e.TokenTypeIds!);
    }

    [Fact]
    public void EncodePair_600PlusTokens_Is512EndingWithSep()
    {
        string doc = string.Join(' ', Enumerable.Repeat("world", 600));

        EncodedInput e = Uncased.Value.EncodePair("hello", doc, 512);

        Assert.Equal(512, e.Length);
        Assert.Equal([Cls, Id("hello"), Sep], e.InputIds[..3]);
        Assert.Equal(Sep, e.InputIds[^1]);
        Assert.Equal(508, e.InputIds.Count(id => id == Id("world")));
        Assert.Equal(3, e.TokenTypeIds!.Count(t => t == 0));
    }

    [Fact]
    public void Settings_ReadFromTokenizerConfig()
    {
        using var temp = new TempDirectory("bgevdb-tok");
        string dir = temp.Path;
        string path = Path.Combine(dir, "tokenizer_config.json");
        File.WriteAllText(path, """{"do_lower_case": false, "tokenize_chinese_chars": true, "cls_token": {"content": "[CLS]"}, "model_max_length": 512}""");
        BertTokenizerSettings s = BertTokenizerSettings.FromTokenizerConfig(path);
        Assert.False(s.LowerCase);
        Assert.Null(s.StripAccents);
        Assert.Equal("[CLS]", s.ClassificationToken);

        // Cased: "Hello" is not lowercased, so it is not the uncased "hello" (7592).
        var cased = BertModelTokenizer.FromVocabFile(SharedData.BertVocab, s);
        Assert.NotEqual([Cls, 7592, Sep], cased.Encode("Hello", 512).InputIds);
        Assert.Equal([Cls, 7592, Sep], cased.Encode("hello", 512).InputIds);
    }
}
