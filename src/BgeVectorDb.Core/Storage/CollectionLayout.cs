namespace BgeVectorDb.Core.Storage;

/// <summary>
/// The files of one durable collection under its folder <c>DATA/collections/NAME/</c>: <c>wal/</c> (FasterLog,
/// <see cref="FasterLogWal"/>), <c>store/</c> (FasterKV hybrid log, <see cref="CollectionStore"/>) and
/// <c>checkpoints/</c> (FasterKV checkpoint folders and <see cref="CheckpointManifest"/> files). Only Storage knows
/// these names. A snapshot folder holds <c>store/</c> and <c>checkpoints/</c> laid out the same way.
/// </summary>
internal static class CollectionLayout
{
    public const string Wal = "wal";
    public const string Store = "store";
    public const string Checkpoints = "checkpoints";

    public static string WalDirectory(string collectionDirectory) => Path.Combine(collectionDirectory, Wal);

    public static string StoreDirectory(string collectionDirectory) => Path.Combine(collectionDirectory, Store);

    public static string CheckpointDirectory(string collectionDirectory) => Path.Combine(collectionDirectory, Checkpoints);

    /// <summary>Bytes of every file under <paramref name="collectionDirectory"/> (WAL, store, checkpoints); files that
    /// vanish meanwhile (pruned checkpoints) are skipped.</summary>
    public static long DiskBytes(string collectionDirectory)
    {
        long bytes = 0;
        try
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true };
            foreach (var file in new DirectoryInfo(collectionDirectory).EnumerateFiles("*", options)) bytes += file.Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return bytes;
    }
}
