using BgeVectorDb.Common.Errors;

namespace BgeVectorDb.Core.Storage;

/// <summary>Free space of the volume holding a folder, and the one wording of a full disk that the WAL and the
/// store report (RESOURCE_EXHAUSTED naming the volume).</summary>
internal static class DiskSpace
{
    /// <summary>Below this many free bytes (two 4 MiB FASTER pages) a failed write is reported as a full disk, and a
    /// WAL whose commit failed is not reopened.</summary>
    public const long FullBelowBytes = 2L << 22;

    /// <summary>Free bytes on the volume holding <paramref name="folder"/>; <see cref="long.MaxValue"/> when it cannot be read.</summary>
    public static long FreeBytes(string folder)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return long.MaxValue;
        }
    }

    private const string FullPrefix = "the disk is full: ";

    /// <summary>"the disk is full: the volume holding FOLDER has N bytes free; free space and retry (DETAIL)".</summary>
    private static string FullMessage(string folder, long free, string detail) =>
        $"{FullPrefix}the volume holding {Path.GetFullPath(folder)} has {free} bytes free; free space and retry ({detail})";

    /// <summary>The full-disk message for a write under <paramref name="folder"/> that failed with
    /// <paramref name="detail"/> when the volume has less than <see cref="FullBelowBytes"/> free; null when it has room.</summary>
    public static string? FullReason(string folder, string detail)
    {
        var free = FreeBytes(folder);
        return free < FullBelowBytes ? FullMessage(folder, free, detail) : null;
    }

    /// <summary>True for a message made by <see cref="FullMessage"/>.</summary>
    public static bool IsFullMessage(string message) => message.StartsWith(FullPrefix, StringComparison.Ordinal);

    /// <summary>RESOURCE_EXHAUSTED naming the volume when <paramref name="error"/> (an I/O failure writing under
    /// <paramref name="folder"/>) happened on a (nearly) full volume; null when the disk has room (some other
    /// I/O error). Call it before removing what the failed write left, or the space it took looks free.</summary>
    public static EngineException? FullError(Exception error, string folder, string what)
    {
        if (error is not (IOException or FASTER.core.FasterException)) return null;
        return FullReason(folder, $"{what}: {error.Message}") is { } reason ? new EngineException(EngineErrorKind.ResourceExhausted, reason, inner: error) : null;
    }

    /// <summary>Refuses, before it starts, a write of <paramref name="bytes"/> under <paramref name="folder"/> that
    /// would leave less than <see cref="FullBelowBytes"/> free, so it never takes the space the WALs need.</summary>
    public static void EnsureRoom(string folder, long bytes, string what)
    {
        var free = FreeBytes(folder);
        if (free == long.MaxValue || free - bytes >= FullBelowBytes) return;
        throw new EngineException(EngineErrorKind.ResourceExhausted,
            $"not enough disk space for {what}: it needs {bytes} bytes and the volume holding {Path.GetFullPath(folder)} has {free} bytes free "
            + $"({FullBelowBytes} must stay free for the write-ahead logs); free space and retry");
    }
}
