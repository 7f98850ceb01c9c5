using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Storage;

/// <summary>One logged write of a collection.</summary>
public abstract record WalEntry;

/// <summary>Documents with their final (prepared) vectors: replay never re-embeds.</summary>
public sealed record UpsertEntry(IReadOnlyList<StoredDocument> Documents) : WalEntry
{
    /// <summary>Upper bound of one upsert entry's payload, well under the 4 MiB FasterLog page (an entry must fit in
    /// one page; a batch may be up to max_message_bytes, 64 MiB).</summary>
    internal const int MaxPartBytes = 2 * 1024 * 1024;

    /// <summary>A batch as entries whose encoded size is surely under <see cref="MaxPartBytes"/> (UTF-8 at most 3 bytes
    /// per UTF-16 char, metadata counted twice), in order; almost every batch is one entry.</summary>
    internal static IEnumerable<UpsertEntry> Split(StoredDocument[] documents)
    {
        static long Bound(StoredDocument d)
        {
            long size = 64 + 3L * (d.Id.Length + d.Text.Length) + 4L * d.Vector.Length;
            foreach (var (key, value) in d.Metadata) size += 16 + 3L * key.Length + 2L * value.SizeBytes;
            return size;
        }
        var start = 0;
        long bytes = 0;
        for (var i = 0; i < documents.Length; i++)
        {
            var b = Bound(documents[i]);
            if (i > start && bytes + b > MaxPartBytes)
            {
                yield return new UpsertEntry(documents[start..i]);
                start = i;
                bytes = 0;
            }
            bytes += b;
        }
        yield return new UpsertEntry(start == 0 ? documents : documents[start..]);
    }
}

public sealed record DeleteEntry(IReadOnlyList<string> Ids) : WalEntry;

/// <summary>A collection's write-ahead log. <see cref="AppendAsync"/> returns only once the entry is
/// durable (concurrent appenders share flushes).</summary>
public interface IWriteAheadLog : IAsyncDisposable
{
    /// <summary>Appends and commits; returns the entry's log position once it is durable.</summary>
    ValueTask<long> AppendAsync(WalEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Puts the entry in the log (log order is the order of these calls) and returns its
    /// position and a task that completes when the entry is durable.</summary>
    (long Position, Task Durable) Enqueue(WalEntry entry);

    /// <summary>Every committed entry in order, for recovery.</summary>
    IEnumerable<(long Position, WalEntry Entry)> ReadAll();

    /// <summary>Committed entries at or after <paramref name="position"/> in order. A damaged entry
    /// ends the log: the rest is logically truncated (remembered, skipped from then on) with a warning.</summary>
    IEnumerable<(long Position, WalEntry Entry)> ReadFrom(long position);

    /// <summary>Drops the log before <paramref name="position"/> (covered by a checkpoint).</summary>
    Task TruncateBeforeAsync(long position);

    /// <summary>End of the log: the position the next entry gets.</summary>
    long TailPosition { get; }

    /// <summary>Start of the log (after truncation).</summary>
    long BeginPosition { get; }

    long SizeBytes { get; }

    /// <summary>Why the log refuses writes now (its last commit failed, e.g. the disk is full); null when it takes them.</summary>
    string? Broken { get; }

    /// <summary>When broken and the volume has room again, reopens the log from its last commit; returns true
    /// when the log takes writes afterwards.</summary>
    bool TryRecover();

    /// <summary>Commits (flushes) done so far; fewer than appends when writers share commits.</summary>
    long CommitCount { get; }
}
