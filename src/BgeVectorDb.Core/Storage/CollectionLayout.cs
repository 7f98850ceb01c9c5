using System.Globalization;

namespace BgeVectorDb.Core.Storage;

/// <summary>
/// The files of one durable collection under its folder <c>DATA/collections/NAME/</c>: <c>wal/</c> (FasterLog,
/// <see cref="FasterLogWal"/>) and one or two store generations, each a <c>store/</c> (FasterKV hybrid log,
/// <see cref="CollectionStore"/>) with its <c>checkpoints/</c> (FasterKV checkpoint folders and
/// <see cref="CheckpointManifest"/> files). Generation 0 lies in the collection folder itself (a new collection, a
/// restored snapshot, data written before generations existed); generation N &gt; 0 in <c>gen-NNNNNN/</c>. Only
/// Storage knows these names. A snapshot folder holds <c>store/</c> and <c>checkpoints/</c> laid out like generation 0.
/// </summary>
internal static class CollectionLayout
{
    public const string Wal = "wal";
    public const string Store = "store";
    public const string Checkpoints = "checkpoints";
    private const string GenerationPrefix = "gen-";

    public static string WalDirectory(string collectionDirectory) => Path.Combine(collectionDirectory, Wal);

    public static string StoreDirectory(string collectionDirectory) => Path.Combine(collectionDirectory, Store);

    public static string CheckpointDirectory(string collectionDirectory) => Path.Combine(collectionDirectory, Checkpoints);

    /// <summary>The folder holding <c>store/</c> and <c>checkpoints/</c> of generation <paramref name="number"/>.</summary>
    public static string GenerationDirectory(string collectionDirectory, int number) =>
        number == 0 ? collectionDirectory : Path.Combine(collectionDirectory, GenerationPrefix + number.ToString("D6", CultureInfo.InvariantCulture));

    /// <summary>The checkpoint manifests of generation <paramref name="number"/>, newest first.</summary>
    public static IReadOnlyList<(long Sequence, string Path)> Manifests(string collectionDirectory, int number) =>
        CheckpointManifest.List(CheckpointDirectory(GenerationDirectory(collectionDirectory, number)));

    /// <summary>Bytes of one part (<see cref="Store"/> or <see cref="Checkpoints"/>) summed over every generation present.</summary>
    public static long GenerationsBytes(string collectionDirectory, string part) =>
        Generations(collectionDirectory).Sum(n => CollectionStore.DirectorySize(Path.Combine(GenerationDirectory(collectionDirectory, n), part)));

    /// <summary>Generations present, newest first (generation 0 when its <c>store/</c> or <c>checkpoints/</c> exists).</summary>
    public static IReadOnlyList<int> Generations(string collectionDirectory)
    {
        var numbers = new List<int>();
        if (Directory.Exists(StoreDirectory(collectionDirectory)) || Directory.Exists(CheckpointDirectory(collectionDirectory))) numbers.Add(0);
        if (Directory.Exists(collectionDirectory))
        {
            foreach (var dir in Directory.GetDirectories(collectionDirectory, GenerationPrefix + "*"))
            {
                if (int.TryParse(Path.GetFileName(dir).AsSpan(GenerationPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0) numbers.Add(n);
            }
        }
        return numbers.OrderDescending().ToArray();
    }

    /// <summary>The number a new generation gets: one above every generation present.</summary>
    public static int NextGeneration(string collectionDirectory) => Generations(collectionDirectory).DefaultIfEmpty(-1).Max() + 1;

    /// <summary>Deletes the files of generation <paramref name="number"/> (missing files are fine).</summary>
    public static void DeleteGeneration(string collectionDirectory, int number)
    {
        var folder = GenerationDirectory(collectionDirectory, number);
        foreach (var dir in new[] { StoreDirectory(folder), CheckpointDirectory(folder) })
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
        if (number > 0 && Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

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
