using System.Text;

namespace BgeVectorDb.Core.Mining;

/// <summary>
/// The duplicate rule of the miner. Normalisation: Unicode NFKC, lower case (invariant culture), every
/// character that is not a letter or a digit becomes a space, then the text is split into words on
/// whitespace. Two texts are <b>equal</b> when their word sequences are equal. They are <b>near
/// duplicates</b> when the Jaccard similarity of their sets of word 3-shingles (consecutive word
/// triples; for a text of fewer than three words, its single shingle is the whole word sequence) is at
/// least the threshold (default <see cref="DefaultNearDuplicateThreshold"/>).
/// </summary>
public static class TextSimilarity
{
    /// <summary>Jaccard similarity from which a candidate counts as a near duplicate of a positive.</summary>
    public const double DefaultNearDuplicateThreshold = 0.9;

    /// <summary>Shingle length in words.</summary>
    public const int ShingleWords = 3;

    /// <summary>The normalised words of <paramref name="text"/>.</summary>
    public static string[] Words(string text)
    {
        var folded = text.Normalize(NormalizationForm.FormKC).ToLowerInvariant();
        var sb = new StringBuilder(folded.Length);
        foreach (var rune in folded.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune)) sb.Append(rune.ToString());
            else sb.Append(' ');
        }
        return sb.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The normalised form: words joined by single spaces. Equal texts have equal keys.</summary>
    public static string Key(string text) => string.Join(' ', Words(text));

    /// <summary>Hashed word 3-shingles (64-bit FNV-1a of the words joined by a space).</summary>
    public static HashSet<ulong> Shingles(IReadOnlyList<string> words)
    {
        var set = new HashSet<ulong>();
        if (words.Count == 0) return set;
        if (words.Count < ShingleWords)
        {
            set.Add(Fnv(string.Join(' ', words)));
            return set;
        }
        for (var i = 0; i + ShingleWords <= words.Count; i++)
        {
            set.Add(Fnv(string.Join(' ', words[i], words[i + 1], words[i + 2])));
        }
        return set;
    }

    /// <summary>|A ∩ B| / |A ∪ B|; 1 for two empty sets.</summary>
    public static double Jaccard(HashSet<ulong> a, HashSet<ulong> b)
    {
        if (a.Count == 0 && b.Count == 0) return 1;
        var (small, large) = a.Count <= b.Count ? (a, b) : (b, a);
        var common = 0;
        foreach (var x in small)
        {
            if (large.Contains(x)) common++;
        }
        return (double)common / (a.Count + b.Count - common);
    }

    /// <summary>Jaccard similarity of the shingle sets of two texts.</summary>
    public static double Similarity(string a, string b) => Jaccard(Shingles(Words(a)), Shingles(Words(b)));

    private static ulong Fnv(string s)
    {
        var h = 14695981039346656037UL;
        foreach (var c in s)
        {
            h = unchecked((h ^ c) * 1099511628211UL);
        }
        return h;
    }
}
