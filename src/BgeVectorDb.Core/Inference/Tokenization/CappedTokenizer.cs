namespace BgeVectorDb.Core.Inference.Tokenization;

/// <summary>Wraps a tokenizer so no row exceeds the model's maximum length, whatever the caller asks.</summary>
internal sealed class CappedTokenizer : IModelTokenizer
{
    public CappedTokenizer(IModelTokenizer inner, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 4);
        Inner = inner;
        MaxLength = maxLength;
    }

    /// <summary>The wrapped tokenizer.</summary>
    public IModelTokenizer Inner { get; }

    /// <summary>Cap on tokens per row, special tokens included.</summary>
    public int MaxLength { get; }

    public string Family => Inner.Family;

    public int PadId => Inner.PadId;

    public EncodedInput Encode(string text, int maxLength) => Inner.Encode(text, Math.Min(maxLength, MaxLength));

    public EncodedInput EncodePair(string first, string second, int maxLength) =>
        Inner.EncodePair(first, second, Math.Min(maxLength, MaxLength));

    public int CountTokens(string text) => Inner.CountTokens(text);
}
