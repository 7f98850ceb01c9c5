using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace BgeVectorDb.Core.Inference.Tokenization;

/// <summary>
/// The normalizing half of Hugging Face's BERT <c>BasicTokenizer</c> (same rules as the
/// <c>tokenizers</c> BertNormalizer): drops NUL, U+FFFD and control characters, turns every
/// whitespace character (tab, newline, Zs) into a space, puts spaces around CJK ideographs,
/// then optionally strips accents (NFD, remove non-spacing marks) and lowercases.
/// </summary>
/// <remarks>
/// Written here because Microsoft.ML.Tokenizers 2.0.1's own BERT normalizer/pre-tokenizer differ
/// from the reference: they delete tab/newline instead of treating them as spaces (merging words)
/// and drop symbols such as <c>$ + = &lt; &gt; ©</c> instead of keeping them as tokens.
/// Accent stripping needs Unicode normalization data (ICU): see <see cref="EnsureNormalizationAvailable"/>.
/// </remarks>
internal sealed class BertBasicNormalizer : Normalizer
{
    private readonly bool _lowerCase;
    private readonly bool _stripAccents;
    private readonly bool _splitCjk;

    public BertBasicNormalizer(bool lowerCase, bool stripAccents, bool splitCjk)
    {
        _lowerCase = lowerCase;
        _stripAccents = stripAccents;
        _splitCjk = splitCjk;
        if (stripAccents)
        {
            EnsureNormalizationAvailable();
        }
    }

    /// <summary>Throws when <see cref="string.Normalize(NormalizationForm)"/> cannot decompose
    /// non-ASCII text, which happens with <c>InvariantGlobalization=true</c> or without ICU: accents
    /// would then silently survive and turn words into [UNK].</summary>
    public static void EnsureNormalizationAvailable()
    {
        if ("\u00e9".Normalize(NormalizationForm.FormD) != "e\u0301")
        {
            throw new InvalidOperationException(
                "Unicode normalization is not available in this process (InvariantGlobalization=true or ICU missing); " +
                "BERT accent stripping would be wrong. Run with InvariantGlobalization=false and libicu installed.");
        }
    }

    public override string Normalize(string original) => Normalize(original.AsSpan());

    public override string Normalize(ReadOnlySpan<char> original)
    {
        var sb = new StringBuilder(original.Length + 8);
        bool ascii = true;
        int i = 0;
        while (i < original.Length)
        {
            if (Rune.DecodeFromUtf16(original[i..], out Rune rune, out int consumed) != OperationStatus.Done)
            {
                i += Math.Max(consumed, 1); // lone surrogate: dropped like other invalid input
                continue;
            }

            i += consumed;
            int cp = rune.Value;
            if (cp == 0 || cp == 0xFFFD || IsControl(rune))
            {
                continue;
            }

            if (IsWhitespace(rune))
            {
                sb.Append(' ');
            }
            else if (_splitCjk && IsCjk(cp))
            {
                sb.Append(' ').Append(rune.ToString()).Append(' ');
                ascii = false;
            }
            else
            {
                AppendRune(sb, rune);
                ascii &= cp < 0x80;
            }
        }

        string text = sb.ToString();
        if (_stripAccents && !ascii)
        {
            text = StripAccents(text);
        }

        return _lowerCase ? text.ToLowerInvariant() : text;
    }

    private static void AppendRune(StringBuilder sb, Rune rune)
    {
        if (rune.IsBmp)
        {
            sb.Append((char)rune.Value);
        }
        else
        {
            sb.Append(rune.ToString());
        }
    }

    private static string StripAccents(string text)
    {
        string decomposed = text.Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        foreach (char c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    /// <summary>HF <c>_is_whitespace</c>: space, tab, newline, carriage return, or category Zs.</summary>
    internal static bool IsWhitespace(Rune rune) =>
        rune.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(rune) == UnicodeCategory.SpaceSeparator;

    /// <summary>HF <c>_is_control</c>: any "C*" category except tab, newline and carriage return.</summary>
    private static bool IsControl(Rune rune)
    {
        if (rune.Value is '\t' or '\n' or '\r')
        {
            return false;
        }

        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;
    }

    /// <summary>HF <c>_is_chinese_char</c>: CJK Unified Ideographs blocks (not Hangul or kana).</summary>
    internal static bool IsCjk(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
