using Microsoft.ML.Tokenizers;

namespace BgeVectorDb.Core.Inference.Tokenization;

/// <summary>
/// XLM-RoBERTa tokenization (BAAI/bge-reranker-base, -large, -v2-m3, bge-m3): SentencePiece
/// Unigram through Microsoft.ML.Tokenizers' <see cref="SentencePieceTokenizer"/>, ids in the fairseq
/// convention (<c>&lt;s&gt;</c>=0, <c>&lt;pad&gt;</c>=1, <c>&lt;/s&gt;</c>=2, <c>&lt;unk&gt;</c>=3, every
/// SentencePiece id + 1, the SentencePiece unknown id mapped to 3). Encodes <c>&lt;s&gt; t &lt;/s&gt;</c> and
/// <c>&lt;s&gt; a &lt;/s&gt;&lt;/s&gt; b &lt;/s&gt;</c>; no token types. Thread-safe.
/// </summary>
/// <remarks>
/// Special-token text in the input (a literal "&lt;/s&gt;") is tokenized as ordinary text, as
/// SentencePiece itself does, so user text cannot inject separators. For a model with 8000
/// SentencePiece pieces the largest id produced is 8000; Hugging Face's vocab_size for such a model is
/// 8002 (pieces + 1 offset + <c>&lt;mask&gt;</c>).
/// </remarks>
internal sealed class XlmRobertaModelTokenizer : IModelTokenizer
{
    /// <summary><c>&lt;s&gt;</c>.</summary>
    public const int BosId = 0;

    /// <summary><c>&lt;pad&gt;</c>.</summary>
    public const int PaddingId = 1;

    /// <summary><c>&lt;/s&gt;</c>.</summary>
    public const int EosId = 2;

    /// <summary><c>&lt;unk&gt;</c>.</summary>
    public const int UnknownId = 3;

    private readonly SentencePieceTokenizer _tokenizer;

    // Maps the SentencePiece model's ids to model input ids: +1 with unk -> 3 (sentencepiece.bpe.model),
    // or identity when the model was built from tokenizer.json whose ids are already final.
    private readonly int _offset;
    private readonly int _spmUnknownId;

    private XlmRobertaModelTokenizer(SentencePieceTokenizer tokenizer, int offset)
    {
        _tokenizer = tokenizer;
        _offset = offset;
        _spmUnknownId = tokenizer.UnknownId;
    }

    /// <inheritdoc />
    public string Family => "xlm-roberta";

    /// <inheritdoc />
    public int PadId => PaddingId;

    /// <summary>Loads a SentencePiece model file (<c>sentencepiece.bpe.model</c>, a Unigram ModelProto
    /// despite its name) and applies the fairseq id offset.</summary>
    public static XlmRobertaModelTokenizer FromSentencePieceModel(string modelPath)
    {
        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"SentencePiece model not found: {modelPath}", modelPath);
        }

        using FileStream stream = File.OpenRead(modelPath);
        return FromSentencePieceModel(stream);
    }

    /// <summary>Loads a SentencePiece model from a stream and applies the fairseq id offset.</summary>
    public static XlmRobertaModelTokenizer FromSentencePieceModel(Stream model)
    {
        ArgumentNullException.ThrowIfNull(model);
        SentencePieceTokenizer spm = SentencePieceTokenizer.Create(model, addBeginningOfSentence: false, addEndOfSentence: false);
        return new XlmRobertaModelTokenizer(spm, offset: 1);
    }

    /// <summary>Loads a Hugging Face <c>tokenizer.json</c> (Unigram model, Precompiled normalizer,
    /// Metaspace pre-tokenizer) whose ids are already the model's input ids.</summary>
    public static XlmRobertaModelTokenizer FromTokenizerJson(string tokenizerJsonPath)
    {
        if (!File.Exists(tokenizerJsonPath))
        {
            throw new FileNotFoundException($"tokenizer.json not found: {tokenizerJsonPath}", tokenizerJsonPath);
        }

        byte[] proto = TokenizerJsonConverter.ToSentencePieceModel(tokenizerJsonPath);
        using var stream = new MemoryStream(proto, writable: false);
        SentencePieceTokenizer spm = SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false);
        if (spm.UnknownId != UnknownId)
        {
            throw new InvalidDataException(
                $"{tokenizerJsonPath}: unk_id is {spm.UnknownId}, expected {UnknownId} for an XLM-RoBERTa tokenizer.");
        }

        return new XlmRobertaModelTokenizer(spm, offset: 0);
    }

    /// <inheritdoc />
    public EncodedInput Encode(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        IReadOnlyList<int> ids = PrefixEncoding.Encode(SpmIds, text, maxLength - 2);
        int keep = PairTruncation.Single(ids.Count, maxLength - 2);

        var input = new int[keep + 2];
        input[0] = BosId;
        CopyMapped(ids, keep, input, 1);
        input[keep + 1] = EosId;
        return new EncodedInput(input, null);
    }

    /// <inheritdoc />
    public EncodedInput EncodePair(string first, string second, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 4);
        // Lengths beyond the budget do not change the truncation, so each side is encoded only that far.
        IReadOnlyList<int> a = PrefixEncoding.Encode(SpmIds, first, maxLength - 4);
        IReadOnlyList<int> b = PrefixEncoding.Encode(SpmIds, second, maxLength - 4);
        (int keepA, int keepB) = PairTruncation.Pair(a.Count, b.Count, maxLength - 4);

        var input = new int[keepA + keepB + 4];
        input[0] = BosId;
        CopyMapped(a, keepA, input, 1);
        input[keepA + 1] = EosId;
        input[keepA + 2] = EosId;
        CopyMapped(b, keepB, input, keepA + 3);
        input[^1] = EosId;
        return new EncodedInput(input, null);
    }

    /// <inheritdoc />
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SpmIds(text).Count;
    }

    /// <summary>All content ids of a text (no specials, no truncation) in model input id space.</summary>
    internal int[] ContentIds(string text)
    {
        IReadOnlyList<int> ids = SpmIds(text);
        var result = new int[ids.Count];
        CopyMapped(ids, ids.Count, result, 0);
        return result;
    }

    // SentencePiece (spm_encode, the Python sentencepiece package) and Hugging Face's Unigram model
    // merge a run of consecutive unknown pieces into one <unk>; Microsoft.ML.Tokenizers 2.0.1 emits one
    // per character, so the run is collapsed here.
    private IReadOnlyList<int> SpmIds(string text)
    {
        IReadOnlyList<int> ids = _tokenizer.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false);
        int unknown = _spmUnknownId;
        bool hasRun = false;
        for (int i = 1; i < ids.Count && !hasRun; i++)
        {
            hasRun = ids[i] == unknown && ids[i - 1] == unknown;
        }

        if (!hasRun)
        {
            return ids;
        }

        var merged = new List<int>(ids.Count);
        for (int i = 0; i < ids.Count; i++)
        {
            if (ids[i] != unknown || i == 0 || ids[i - 1] != unknown)
            {
                merged.Add(ids[i]);
            }
        }

        return merged;
    }

    private void CopyMapped(IReadOnlyList<int> source, int count, int[] destination, int offset)
    {
        for (int i = 0; i < count; i++)
        {
            int id = source[i];
            destination[offset + i] = id == _spmUnknownId ? UnknownId : id + _offset;
        }
    }
}
