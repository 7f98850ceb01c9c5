namespace BgeVectorDb.Core.Index;

/// <summary>A scored neighbour: internal id and similarity (higher is better).</summary>
public readonly record struct ScoredId(int Id, float Score);

/// <summary>A vector index over dense internal ids. Vectors are already prepared for the distance
/// (normalised for cosine). Implementations are safe for concurrent searches; writes are serialised
/// by the caller.</summary>
public interface IVectorIndex
{
    string Kind { get; }

    int Dimension { get; }

    /// <summary>Live (not deleted) points.</summary>
    int Count { get; }

    /// <summary>Adds or replaces the vector of <paramref name="id"/>.</summary>
    void Upsert(int id, ReadOnlySpan<float> vector);

    /// <summary>Marks <paramref name="id"/> deleted; it never appears in results again.</summary>
    void Delete(int id);

    /// <summary>The <paramref name="k"/> best live points by score, best first, ties by id.
    /// <paramref name="filter"/> (by internal id) restricts the result when given.</summary>
    ScoredId[] Search(ReadOnlySpan<float> query, int k, Func<int, bool>? filter = null, int ef = 0);

    /// <summary>Copies the stored vector of a live id; false when absent.</summary>
    bool TryGetVector(int id, Span<float> destination);

    long MemoryBytes { get; }
}
