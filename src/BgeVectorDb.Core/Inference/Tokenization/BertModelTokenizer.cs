using Microsoft.ML.Tokenizers;

namespace BgeVectorDb.Core.Inference.Tokenization;

/// <summary>
/// BERT WordPiece tokenization (bge-*-en/zh-v1.5, BERT cross-encoders): Hugging Face's basic
/// tokenization (<see cref="BertBasicNormalizer"/>, <see cref="BertBasicPreTokenizer"/>: whitespace
/// and punctuation split, CJK ideographs as single characters, accents stripped when lowercasing),
/// then Microsoft.ML.Tokenizers' <see cref="WordPieceTokenizer"/> (greedy longest match, "##"
/// continuations, [UNK] for a word it cannot cover or longer than 100 characters). Encodes
/// <c>[CLS] t [SEP]</c> and <c>[CLS] a [SEP] b [SEP]</c> with token types 0/1. Thread-safe.
/// </summary>
/// <remarks>
/// Differences from transformers' BertTokenizer, on purpose: special-token text in the input (a
/// literal "[SEP]") is tokenized as ordinary text, so user text cannot inject separators; cased
/// vocabularies get no NFC pre-normalization (the fast tokenizer does none either).
/// </remarks>
internal sealed class BertModelTokenizer : IModelTokenizer
{
    private readonly WordPieceTokenizer _tokenizer;
    private readonly int _clsId;
    private readonly int _sepId;

    private BertModelTokenizer(WordPieceTokenizer tokenizer, int clsId, int sepId, int padId)
    {
        _tokenizer = tokenizer;
        _clsId = clsId;
        _sepId = sepId;
        PadId = padId;
    }

    /// <inheritdoc />
    public string Family => "bert";

    /// <inheritdoc />
    public int PadId { get; }

    /// <summary>[CLS] id (101 in bert-base-uncased).</summary>
    public int ClsId => _clsId;

    /// <summary>[SEP] id (102 in bert-base-uncased).</summary>
    public int SepId => _sepId;

    /// <summary>Loads a WordPiece vocabulary (one token per line, id = line index).</summary>
    /// <param name="vocabPath">Path of <c>vocab.txt</c>.</param>
    /// <param name="settings">Casing and CJK options, usually from <c>tokenizer_config.json</c>.</param>
    public static BertModelTokenizer FromVocabFile(string vocabPath, BertTokenizerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!File.Exists(vocabPath))
        {
            throw new FileNotFoundException($"BERT vocabulary file not found: {vocabPath}", vocabPath);
        }

        using FileStream stream = File.OpenRead(vocabPath);
        return FromVocabStream(stream, settings);
    }

    /// <summary>Loads a WordPiece vocabulary from a stream (one token per line).</summary>
    public static BertModelTokenizer FromVocabStream(Stream vocab, BertTokenizerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        ArgumentNullException.ThrowIfNull(settings);
        var options = new WordPieceOptions
        {
            Normalizer = new BertBasicNormalizer(
                settings.LowerCase, settings.StripAccents ?? settings.LowerCase, settings.TokenizeChineseChars),
            PreTokenizer = new BertBasicPreTokenizer(),
            UnknownToken = settings.UnknownToken,
        };
        var buffer = new MemoryStream();
        vocab.CopyTo(buffer);
        Dictionary<string, int> specialIds = FindIds(
            buffer,
            [settings.ClassificationToken, settings.SeparatorToken, settings.PaddingToken, settings.UnknownToken]);
        buffer.Position = 0;
        WordPieceTokenizer wordPiece = WordPieceTokenizer.Create(buffer, options);
        return new BertModelTokenizer(
            wordPiece,
            specialIds[settings.ClassificationToken],
            specialIds[settings.SeparatorToken],
            specialIds[settings.PaddingToken]);
    }

    // Id = zero-based line index, as in transformers' load_vocab.
    private static Dictionary<string, int> FindIds(MemoryStream vocab, string[] tokens)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        vocab.Position = 0;
        using var reader = new StreamReader(vocab, leaveOpen: true);
        int index = 0;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine(), index++)
        {
            if (Array.IndexOf(tokens, line) >= 0)
            {
                ids.TryAdd(line, index);
            }
        }

        foreach (string token in tokens)
        {
            if (!ids.ContainsKey(token))
            {
                throw new InvalidDataException($"BERT vocabulary has no '{token}' line.");
            }
        }

        return ids;
    }

    /// <inheritdoc />
    public EncodedInput Encode(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        IReadOnlyList<int> ids = PrefixEncoding.Encode(ContentIds, text, maxLength - 2);
        int keep = PairTruncation.Single(ids.Count, maxLength - 2);

        var input = new int[keep + 2];
        input[0] = _clsId;
        Copy(ids, keep, input, 1);
        input[keep + 1] = _sepId;
        return new EncodedInput(input, new int[input.Length]);
    }

    /// <inheritdoc />
    public EncodedInput EncodePair(string first, string second, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 3);
        // Lengths beyond the budget do not change the truncation, so each side is encoded only that far.
        IReadOnlyList<int> a = PrefixEncoding.Encode(ContentIds, first, maxLength - 3);
        IReadOnlyList<int> b = PrefixEncoding.Encode(ContentIds, second, maxLength - 3);
        (int keepA, int keepB) = PairTruncation.Pair(a.Count, b.Count, maxLength - 3);

        int length = keepA + keepB + 3;
        var input = new int[length];
        var types = new int[length];
        input[0] = _clsId;
        Copy(a, keepA, input, 1);
        input[keepA + 1] = _sepId;
        Copy(b, keepB, input, keepA + 2);
        input[length - 1] = _sepId;
        types.AsSpan(keepA + 2).Fill(1);
        return new EncodedInput(input, types);
    }

    /// <inheritdoc />
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ContentIds(text).Count;
    }

    /// <summary>All content ids of a text (no special tokens, no truncation).</summary>
    internal IReadOnlyList<int> ContentIds(string text) => _tokenizer.EncodeToIds(text);

    private static void Copy(IReadOnlyList<int> source, int count, int[] destination, int offset)
    {
        for (int i = 0; i < count; i++)
        {
            destination[offset + i] = source[i];
        }
    }
}
