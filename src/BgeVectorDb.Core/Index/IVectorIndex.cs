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

    // Persistence surface: the storage layer exports every node and the state at a checkpoint and
    // imports them at recovery, so a reopened index needs no rebuild. Export runs while writes are
    // held back by the caller; import runs before the index serves.

    /// <summary>Entry point, top level and id bound, consistent with the nodes exported with it.</summary>
    IndexState ExportState();

    /// <summary>The node stored at <paramref name="id"/> (live, or tombstoned but still routing);
    /// false for an unused id.</summary>
    bool TryExportNode(int id, out IndexNode node);

    /// <summary>Places a node exactly as exported (no graph search, no link changes).</summary>
    void ImportNode(IndexNode node);

    /// <summary>Ends an import: sets the entry point and top level and rebuilds derived counters.</summary>
    void CompleteImport(IndexState state);
}
