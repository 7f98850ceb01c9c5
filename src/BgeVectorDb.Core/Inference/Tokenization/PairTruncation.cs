namespace BgeVectorDb.Core.Inference.Tokenization;

/// <summary>How many content tokens of each text survive truncation to a token budget.</summary>
internal static class PairTruncation
{
    /// <summary>Single text: keeps the first <c>budget</c> tokens.</summary>
    public static int Single(int length, int budget) => Math.Clamp(budget, 0, length);

    /// <summary>
    /// Pair (query, document): the document is cut first. The query is cut only when it alone
    /// overflows the budget, and then it leaves room for one document token when the document
    /// has any.
    /// </summary>
    /// <param name="firstLength">Content tokens of the first text (the query).</param>
    /// <param name="secondLength">Content tokens of the second text (the document).</param>
    /// <param name="budget">Content tokens allowed in all (max length minus special tokens).</param>
    public static (int First, int Second) Pair(int firstLength, int secondLength, int budget)
    {
        budget = Math.Max(budget, 0);
        if (firstLength + secondLength <= budget)
        {
            return (firstLength, secondLength);
        }

        int reserveForSecond = Math.Min(secondLength, budget > 1 ? 1 : 0);
        int first = Math.Min(firstLength, budget - reserveForSecond);
        int second = Math.Min(secondLength, budget - first);
        return (first, second);
    }
}
