using FASTER.core;

namespace BgeVectorDb.Core.Storage;

/// <summary>A collection's write-ahead log on FASTER's FasterLog: each entry carries a per-entry
/// checksum; <see cref="AppendAsync"/> enqueues then waits for a commit that covers the entry, so
/// concurrent writers share commits (group commit).</summary>
public sealed class FasterLogWal : IWriteAheadLog
{
    private readonly FasterLogSettings _settings;
    private readonly FasterLog _log;

    private FasterLogWal(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        Folder = directory;
        _settings = new FasterLogSettings(directory)
        {
            LogChecksum = LogChecksumType.PerEntry,
            PageSizeBits = 22,      // 4 MiB pages
            MemorySizeBits = 24,    // 16 MiB in memory
            SegmentSizeBits = 28,   // 256 MiB files
            TryRecoverLatest = true,
        };
        _log = new FasterLog(_settings);
    }

    public string Folder { get; }

    public long TailPosition => _log.TailAddress;

    public long SizeBytes => _log.TailAddress - _log.BeginAddress;

    /// <summary>Opens (recovering committed state) or creates the log in <paramref name="directory"/>.</summary>
    public static FasterLogWal Open(string directory) => new(directory);

    public async ValueTask<long> AppendAsync(WalEntry entry, CancellationToken cancellationToken = default)
    {
        var bytes = WalCodec.Encode(entry);
        var address = _log.Enqueue(bytes);
        await _log.CommitAsync(cancellationToken).ConfigureAwait(false);
        return address;
    }

    public IEnumerable<(long Position, WalEntry Entry)> ReadAll()
    {
        using var iterator = _log.Scan(_log.BeginAddress, _log.TailAddress);
        while (iterator.GetNext(out byte[] entry, out var length, out var address))
        {
            yield return (address, WalCodec.Decode(entry.AsSpan(0, length)));
        }
    }

    public ValueTask DisposeAsync()
    {
        _log.Dispose();
        _settings.Dispose();
        return ValueTask.CompletedTask;
    }
}
