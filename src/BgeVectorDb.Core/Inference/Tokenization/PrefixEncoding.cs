namespace BgeVectorDb.Core.Inference.Tokenization;

/// <summary>
/// Encodes only as much of a long text as truncation will keep. Both BERT WordPiece and
/// SentencePiece (whitespace-split pieces) tokenize words independently, so the tokens of the text
/// up to an ASCII space are exactly the first tokens of the whole text. The prefix grows until it
/// yields enough tokens; text with no usable space is encoded whole.
/// </summary>
internal static class PrefixEncoding
{
    // Generous: English averages ~4-5 characters per token.
    private const int CharsPerToken = 8;
    private const int Slack = 256;

    /// <summary>Returns ids whose first <c>min(total, minTokens)</c> entries equal the whole text's,
    /// and which are the whole text's ids when fewer than <paramref name="minTokens"/>.</summary>
    public static IReadOnlyList<int> Encode(Func<string, IReadOnlyList<int>> encode, string text, int minTokens)
    {
        long chars = (long)Math.Max(minTokens, 0) * CharsPerToken + Slack;
        while (chars < text.Length)
        {
            int cut = text.LastIndexOf(' ', (int)chars - 1);
            if (cut <= 0)
            {
                break;
            }

            IReadOnlyList<int> ids = encode(text[..cut]);
            if (ids.Count >= minTokens)
            {
                return ids;
            }

            chars *= 2;
        }

        return encode(text);
    }
}
