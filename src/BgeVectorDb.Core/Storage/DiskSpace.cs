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
}
