namespace BgeVectorDb.Core.Inference;

/// <summary>Token ids for one model input row, special tokens included.</summary>
/// <param name="InputIds">Token ids, special tokens included, at most the requested max length.</param>
/// <param name="TokenTypeIds">Segment ids (0 for the first text, 1 for the second) or null when the
/// model family has no token types (XLM-RoBERTa).</param>
public readonly record struct EncodedInput(int[] InputIds, int[]? TokenTypeIds)
{
    public int Length => InputIds.Length;
}

/// <summary>
/// Turns text into model input ids the way the model's own tokenizer does (BERT WordPiece or
/// XLM-RoBERTa SentencePiece with fairseq id offsets).
/// </summary>
public interface IModelTokenizer
{
    /// <summary>"bert" or "xlm-roberta".</summary>
    string Family { get; }

    /// <summary>Pad token id, used to fill batches.</summary>
    int PadId { get; }

    /// <summary>One text: BERT <c>[CLS] t [SEP]</c>, XLM-R <c>&lt;s&gt; t &lt;/s&gt;</c>; truncated to
    /// <paramref name="maxLength"/> tokens in all, still ending with the closing special token.</summary>
    EncodedInput Encode(string text, int maxLength);

    /// <summary>A pair: BERT <c>[CLS] a [SEP] b [SEP]</c> (types 0/1), XLM-R
    /// <c>&lt;s&gt; a &lt;/s&gt;&lt;/s&gt; b &lt;/s&gt;</c>. When too long, <paramref name="second"/>
    /// (the document) is truncated first, then the first text.</summary>
    EncodedInput EncodePair(string first, string second, int maxLength);

    /// <summary>Number of content tokens (no special tokens) of a text; used to plan batches.</summary>
    int CountTokens(string text);
}
