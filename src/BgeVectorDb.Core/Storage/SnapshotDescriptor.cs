using System.Security.Cryptography;
using System.Text.Json;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Storage;

/// <summary>
/// <c>snapshot.json</c> of a snapshot folder: which collection (name, configuration, creation time),
/// the checkpoint it was taken from (sequence, WAL position covered, documents) and the SHA-256 of every
/// file in the folder. Written last through <see cref="AtomicFile"/>, so a folder without it is not a
/// snapshot. The folder holds <c>store/</c> (FasterKV log) and <c>checkpoints/</c> (FASTER checkpoint
/// files of one token and its manifest), i.e. a collection folder without a WAL.
/// </summary>
public sealed record SnapshotDescriptor(string Name, CollectionConfig Config, long CreatedAtMs, long Sequence, long WalPosition,
    long Documents, long TakenAtMs, IReadOnlyDictionary<string, string> Files)
{
    public const string FileName = "snapshot.json";
    private const string Magic = "BGEVDB-SNAPSHOT";
    private const int Version = 1;

    internal void Write(string folder) => AtomicFile.Write(Path.Combine(folder, FileName), Magic, Version, JsonSerializer.Serialize(this));

    /// <summary>Reads the descriptor and verifies every file; throws InvalidDataException naming the problem.</summary>
    public static SnapshotDescriptor ReadVerified(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new InvalidDataException($"{folder} is not a snapshot (no {FileName})");
        var descriptor = JsonSerializer.Deserialize<SnapshotDescriptor>(AtomicFile.Read(path, Magic, Version))
            ?? throw new InvalidDataException($"{path}: empty descriptor");
        foreach (var (relative, hash) in descriptor.Files)
        {
            var file = Path.Combine(folder, relative);
            if (!File.Exists(file)) throw new InvalidDataException($"snapshot file {relative} is missing");
            if (!string.Equals(HashFile(file), hash, StringComparison.Ordinal)) throw new InvalidDataException($"snapshot file {relative} is corrupt (checksum mismatch)");
        }
        return descriptor;
    }

    internal static string HashFile(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Copies a folder tree (files only), returning relative path -> SHA-256 of each copy.</summary>
    /// <summary>Bytes of the files <see cref="CopyTree"/> would copy from <paramref name="source"/>.</summary>
    internal static long TreeBytes(string source, Func<string, bool>? include = null) =>
        !Directory.Exists(source) ? 0 : new DirectoryInfo(source).EnumerateFiles("*", SearchOption.AllDirectories)
            .Where(f => include is null || include(Path.GetRelativePath(source, f.FullName)))
            .Sum(f => f.Length);

    internal static Dictionary<string, string> CopyTree(string source, string target, string relativeRoot, Func<string, bool>? include = null)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(source)) return files;
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (include is not null && !include(relative)) continue;
            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
            using (var fs = new FileStream(destination, FileMode.Open, FileAccess.ReadWrite))
            {
                fs.Flush(flushToDisk: true);
            }
            files[Path.Combine(relativeRoot, relative).Replace('\\', '/')] = HashFile(destination);
        }
        return files;
    }
}
