using System.Globalization;
using FASTER.core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Storage;

/// <summary>A collection's write-ahead log on FASTER's FasterLog. Entries carry their own checksum
/// (<see cref="WalCodec"/>, on top of FasterLog's per-entry checksum). Group commit: appenders enqueue
/// and wait on the next commit; one commit loop flushes whatever has been enqueued since the last one,
/// so concurrent writers share a flush. A damaged entry found while reading ends the readable log: the
/// range from it to the tail is recorded in <c>torn-ranges</c> and skipped from then on.</summary>
public sealed partial class FasterLogWal : IWriteAheadLog
{
    private const string TornMagic = "BGEVDB-WAL-TORN";
    private const int TornVersion = 1;

    // Replaced (under _enqueueLock) when the log is reopened after a failed commit.
    private FasterLogSettings _settings;
    private FasterLog _log;
    private string? _broken;   // why commits fail (disk full, I/O error); null = healthy
    private readonly ILogger _logger;
    private readonly Lock _enqueueLock = new();
    private readonly SemaphoreSlim _commitSignal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _commitLoop;
    private readonly List<(long From, long To)> _torn;
    private TaskCompletionSource _nextCommit = NewCommitSource();
    private long _commitCount;
    private bool _disposed;

    private FasterLogWal(string directory, ILogger logger)
    {
        Directory.CreateDirectory(directory);
        Folder = directory;
        _logger = logger;
        (_settings, _log) = OpenLog(directory);
        _torn = LoadTorn();
        _commitLoop = Task.Run(CommitLoopAsync);
    }

    public string Folder { get; }

    public long TailPosition => _log.TailAddress;

    public long BeginPosition => _log.BeginAddress;

    /// <summary>FasterLog's first entry address: a log that begins later has been truncated.</summary>
    public const long FirstPosition = 64;

    /// <summary>Entries were dropped from the start of the log (<see cref="TruncateBeforeAsync"/>): a full replay
    /// would miss them.</summary>
    public bool Truncated => BeginPosition > FirstPosition;

    public long SizeBytes => _log.TailAddress - _log.BeginAddress;

    public long CommitCount => Interlocked.Read(ref _commitCount);

    /// <summary>The log is durable up to here.</summary>
    public long CommittedPosition => _log.CommittedUntilAddress;

    private string TornPath => Path.Combine(Folder, "torn-ranges");

    /// <summary>Why writes are refused right now (null when the log takes writes).</summary>
    public string? Broken => Volatile.Read(ref _broken);

    private const string FormatMagic = "BGEVDB-WAL-FORMAT";
    private const int FormatVersion = 1;

    /// <summary>Segment size of a new WAL: 32 MiB files, so truncation frees space in steps of 32 MiB.</summary>
    private const int SegmentBits = 25;

    /// <summary>Segment size of a WAL created before <c>wal/format</c> existed (FasterLog cannot change it later).</summary>
    private const int LegacySegmentBits = 28;

    private static (FasterLogSettings, FasterLog) OpenLog(string directory)
    {
        var settings = new FasterLogSettings(directory)
        {
            LogChecksum = LogChecksumType.PerEntry,
            PageSizeBits = 22,      // 4 MiB pages
            MemorySizeBits = 24,    // 16 MiB in memory
            SegmentSizeBits = SegmentSizeBits(directory),
            TryRecoverLatest = true,
        };
        return (settings, new FasterLog(settings));
    }

    /// <summary>The segment size recorded in <c>wal/format</c>; a WAL without it is new (its format is written now)
    /// or was created with 256 MiB segments before the file existed.</summary>
    private static int SegmentSizeBits(string directory)
    {
        var path = Path.Combine(directory, "format");
        if (File.Exists(path))
        {
            var body = AtomicFile.Read(path, FormatMagic, FormatVersion).Trim();
            const string Key = "segment-bits=";
            if (!body.StartsWith(Key, StringComparison.Ordinal) ||
                !int.TryParse(body.AsSpan(Key.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var bits) || bits is < 22 or > 40)
            {
                throw new InvalidDataException($"{path}: unreadable WAL format '{body}'");
            }
            return bits;
        }
        var existing = Directory.EnumerateFiles(directory, "*.log.*").Any() || Directory.Exists(Path.Combine(directory, "log-commits"));
        var chosen = existing ? LegacySegmentBits : SegmentBits;
        AtomicFile.Write(path, FormatMagic, FormatVersion, string.Create(CultureInfo.InvariantCulture, $"segment-bits={chosen}\n"));
        return chosen;
    }

    public bool TryRecover()
    {
        lock (_enqueueLock)
        {
            if (_disposed) return false;
            return _broken is null || TryReopen();
        }
    }

    private WalUnavailableException Refused(string reason) => new(reason, diskFull: DiskSpace.IsFullMessage(reason));

    /// <summary>Called under _enqueueLock when the log is broken: once the volume has room again, drops the failed
    /// in-memory log and recovers the last commit (entries after it were never acked and never applied).</summary>
    private bool TryReopen()
    {
        if (DiskSpace.FreeBytes(Folder) < DiskSpace.FullBelowBytes) return false;
        var (oldSettings, oldLog) = (_settings, _log);
        try
        {
            oldLog.Dispose();
        }
        catch (Exception ex) when (ex is FasterException or IOException or InvalidOperationException)
        {
            // the failed log may refuse a clean close; its committed part is on disk
        }
        oldSettings.Dispose();
        (_settings, _log) = OpenLog(Folder);
        Volatile.Write(ref _broken, null);
        LogReopened(Folder, _log.TailAddress);
        return true;
    }

    /// <summary>Opens (recovering committed state) or creates the log in <paramref name="directory"/>.</summary>
    public static FasterLogWal Open(string directory, ILogger? logger = null) => new(directory, logger ?? NullLogger.Instance);

    public async ValueTask<long> AppendAsync(WalEntry entry, CancellationToken cancellationToken = default)
    {
        var (position, durable) = Enqueue(entry);
        await durable.WaitAsync(cancellationToken).ConfigureAwait(false);
        return position;
    }

    public (long Position, Task Durable) Enqueue(WalEntry entry)
    {
        var bytes = WalCodec.Encode(entry);
        long address;
        Task durable;
        lock (_enqueueLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_broken is { } reason && !TryReopen()) throw Refused(reason);
            address = _log.Enqueue(bytes);
            durable = _nextCommit.Task;
        }
        _commitSignal.Release();
        return (address, durable);
    }

    private async Task CommitLoopAsync()
    {
        while (true)
        {
            try
            {
                await _commitSignal.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            while (_commitSignal.CurrentCount > 0) _commitSignal.Wait(0);
            TaskCompletionSource batch;
            FasterLog log;
            lock (_enqueueLock)
            {
                batch = _nextCommit;
                _nextCommit = NewCommitSource();
                log = _log;
            }
            try
            {
                // Covers every entry enqueued before the swap above.
                await log.CommitAsync().ConfigureAwait(false);
                Interlocked.Increment(ref _commitCount);
                batch.SetResult();
            }
            catch (Exception ex)
            {
                var reason = DiskSpace.FullReason(Folder, ex.Message) ?? $"write-ahead log commit in {Path.GetFullPath(Folder)} failed: {ex.Message}";
                lock (_enqueueLock) _broken = reason;
                LogCommitFailed(Folder, reason);
                batch.SetException(Refused(reason));
            }
        }
    }

    public IEnumerable<(long Position, WalEntry Entry)> ReadAll() => ReadFrom(0);

    public IEnumerable<(long Position, WalEntry Entry)> ReadFrom(long position)
    {
        var start = Math.Max(position, _log.BeginAddress);
        var end = _log.TailAddress;
        while (start < end)
        {
            var skip = _torn.FirstOrDefault(t => start >= t.From && start < t.To);
            if (skip.To > 0)
            {
                start = skip.To;
                continue;
            }
            var stop = _torn.Where(t => t.From >= start).Select(t => t.From).DefaultIfEmpty(end).Min();
            long damagedAt = -1;
            string reason = "";
            using (var iterator = _log.Scan(start, stop))
            {
                var wholeUntil = start;
                while (true)
                {
                    WalEntry? decoded = null;
                    long address = -1;
                    bool got;
                    try
                    {
                        got = iterator.GetNext(out byte[] bytes, out var length, out address, out var next);
                        if (got)
                        {
                            decoded = WalCodec.Decode(bytes.AsSpan(0, length));
                            wholeUntil = next;
                        }
                    }
                    catch (Exception ex) when (ex is InvalidDataException or FasterException or IndexOutOfRangeException or ArgumentException)
                    {
                        damagedAt = address >= wholeUntil ? address : wholeUntil;
                        reason = ex.Message;
                        break;
                    }
                    if (got)
                    {
                        yield return (address, decoded!);
                        continue;
                    }
                    if (iterator.NextAddress >= stop) break;
                    if (!iterator.WaitAsync().AsTask().GetAwaiter().GetResult()) break;
                }
            }
            if (damagedAt >= 0)
            {
                MarkTorn(damagedAt, end, reason);
                yield break;
            }
            start = stop;
        }
    }

    private void MarkTorn(long from, long to, string reason)
    {
        LogTorn(Folder, from, to - from, reason);
        _torn.Add((from, to));
        SaveTorn();
    }

    public async Task TruncateBeforeAsync(long position)
    {
        if (position <= _log.BeginAddress) return;
        _log.TruncateUntil(Math.Min(position, _log.TailAddress));
        await _log.CommitAsync().ConfigureAwait(false);
        if (_torn.RemoveAll(t => t.To <= _log.BeginAddress) > 0) SaveTorn();
    }

    private List<(long From, long To)> LoadTorn()
    {
        if (!File.Exists(TornPath)) return [];
        return AtomicFile.Read(TornPath, TornMagic, TornVersion)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .Select(p => (long.Parse(p[0], CultureInfo.InvariantCulture), long.Parse(p[1], CultureInfo.InvariantCulture)))
            .ToList();
    }

    private void SaveTorn()
    {
        if (_torn.Count == 0)
        {
            File.Delete(TornPath);
            return;
        }
        AtomicFile.Write(TornPath, TornMagic, TornVersion,
            string.Concat(_torn.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.From} {t.To}\n"))));
    }

    private static TaskCompletionSource NewCommitSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        lock (_enqueueLock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await _commitLoop.ConfigureAwait(false);
        // Commit whatever is still pending so no waiter is left behind (a broken log is not committed again).
        var last = _nextCommit;
        if (_broken is { } reason)
        {
            last.TrySetException(Refused(reason));
        }
        else
        {
            try
            {
                if (_log.TailAddress > _log.CommittedUntilAddress) await _log.CommitAsync().ConfigureAwait(false);
                last.TrySetResult();
            }
            catch (Exception ex)
            {
                last.TrySetException(new IOException("write-ahead log commit failed: " + ex.Message, ex));
            }
        }
        try
        {
            _log.Dispose();
        }
        catch (Exception ex) when (_broken is not null && ex is FasterException or IOException or InvalidOperationException)
        {
            // a log whose commit failed may refuse a clean close; its committed part is on disk
        }
        _settings.Dispose();
        _stop.Dispose();
        _commitSignal.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "WAL {Folder}: commit failed, writes are refused until it can be reopened: {Reason}")]
    private partial void LogCommitFailed(string folder, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WAL {Folder}: reopened after a failed commit; writes resume at position {Tail}")]
    private partial void LogReopened(string folder, long tail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WAL {Folder}: damaged entry at {Position}; the log is truncated there ({Bytes} bytes skipped): {Reason}")]
    private partial void LogTorn(string folder, long position, long bytes, string reason);
}

/// <summary>The WAL cannot take writes now (its last commit failed); <see cref="DiskFull"/> when the volume is out of space.</summary>
public sealed class WalUnavailableException(string message, bool diskFull) : IOException(message)
{
    public bool DiskFull { get; } = diskFull;
}
