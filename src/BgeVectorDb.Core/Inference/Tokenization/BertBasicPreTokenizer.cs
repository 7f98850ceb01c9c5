using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace BgeVectorDb.Core.Inference.Tokenization;

/// <summary>
/// The splitting half of Hugging Face's BERT <c>BasicTokenizer</c>: words are separated by
/// whitespace and every punctuation character is a word of its own. Punctuation is all ASCII
/// non-alphanumeric printable characters plus the Unicode "P*" categories, as in the reference.
/// Runs on text already normalized by <see cref="BertBasicNormalizer"/>.
/// </summary>
internal sealed class BertBasicPreTokenizer : PreTokenizer
{
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        Split(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
        Split(text);

    private static List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var words = new List<(int Offset, int Length)>();
        int start = -1;
        int i = 0;
        while (i < text.Length)
        {
            int consumed;
            if (Rune.DecodeFromUtf16(text[i..], out Rune rune, out consumed) != OperationStatus.Done)
            {
                consumed = Math.Max(consumed, 1);
                rune = Rune.ReplacementChar;
            }

            if (BertBasicNormalizer.IsWhitespace(rune))
            {
                Flush(words, ref start, i);
            }
            else if (IsPunctuation(rune))
            {
                Flush(words, ref start, i);
                words.Add((i, consumed));
            }
            else if (start < 0)
            {
                start = i;
            }

            i += consumed;
        }

        Flush(words, ref start, text.Length);
        return words;
    }

    private static void Flush(List<(int Offset, int Length)> words, ref int start, int end)
    {
        if (start >= 0)
        {
            words.Add((start, end - start));
            start = -1;
        }
    }

    /// <summary>HF <c>_is_punctuation</c>.</summary>
    internal static bool IsPunctuation(Rune rune)
    {
        int cp = rune.Value;
        if (cp is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126))
        {
            return true;
        }

        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation
            or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }
}
