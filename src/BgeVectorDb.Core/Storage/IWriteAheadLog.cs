using BgeVectorDb.Core.Collections;

namespace BgeVectorDb.Core.Storage;

/// <summary>One logged write of a collection.</summary>
public abstract record WalEntry;

/// <summary>Documents with their final (prepared) vectors: replay never re-embeds.</summary>
public sealed record UpsertEntry(IReadOnlyList<StoredDocument> Documents) : WalEntry;

public sealed record DeleteEntry(IReadOnlyList<string> Ids) : WalEntry;

/// <summary>A collection's write-ahead log. <see cref="AppendAsync"/> returns only once the entry is
/// durable (concurrent appenders share flushes).</summary>
public interface IWriteAheadLog : IAsyncDisposable
{
    /// <summary>Appends and commits; returns the entry's log position.</summary>
    ValueTask<long> AppendAsync(WalEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Every committed entry in order, for recovery.</summary>
    IEnumerable<(long Position, WalEntry Entry)> ReadAll();

    /// <summary>End of the committed log.</summary>
    long TailPosition { get; }

    long SizeBytes { get; }
}
