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

    /// <summary>"the disk is full: the volume holding FOLDER has N bytes free; free space and retry (DETAIL)".</summary>
    public static string FullMessage(string folder, long free, string detail) =>
        $"the disk is full: the volume holding {Path.GetFullPath(folder)} has {free} bytes free; free space and retry ({detail})";

    /// <summary>RESOURCE_EXHAUSTED naming the volume when <paramref name="error"/> (an I/O failure writing under
    /// <paramref name="folder"/>) happened on a (nearly) full volume; null when the disk has room (some other
    /// I/O error). Call it before removing what the failed write left, or the space it took looks free.</summary>
    public static EngineException? FullError(Exception error, string folder, string what)
    {
        if (error is not (IOException or FASTER.core.FasterException)) return null;
        var free = FreeBytes(folder);
        return free < FullBelowBytes ? new EngineException(EngineErrorKind.ResourceExhausted, FullMessage(folder, free, $"{what}: {error.Message}"), inner: error) : null;
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
