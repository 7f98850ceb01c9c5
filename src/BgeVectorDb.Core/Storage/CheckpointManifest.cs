using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace BgeVectorDb.Core.Storage;

/// <summary>
/// Describes one checkpoint of a collection: the FASTER checkpoint token, the WAL position it covers
/// (replay starts there) and the SHA-256 of every FASTER checkpoint file, so a damaged checkpoint is
/// detected before it is used. Stored as <c>checkpoints/manifest-SEQUENCE</c> through
/// <see cref="AtomicFile"/> (magic, version, SHA-256 of the body, temp + rename + fsync). <paramref name="BaseBytes"/>:
/// the FasterKV log bytes of the store generation when it was written whole (its live size; 0 in manifests written before
/// generations, and for generation 0 of a new collection), which sets when the next generation is due.
/// </summary>
internal sealed record CheckpointManifest(long Sequence, Guid Token, long WalPosition, long Documents, long CreatedAtMs,
    IReadOnlyDictionary<string, string> Files, long BaseBytes = 0)
{
    public const string Magic = "BGEVDB-CHECKPOINT";
    public const int Version = 1;
    private const string Prefix = "manifest-";

    public static string PathFor(string checkpointDirectory, long sequence) =>
        Path.Combine(checkpointDirectory, Prefix + sequence.ToString("D10", CultureInfo.InvariantCulture));

    /// <summary>Manifest files present, newest first (by sequence in the name).</summary>
    public static IReadOnlyList<(long Sequence, string Path)> List(string checkpointDirectory)
    {
        if (!Directory.Exists(checkpointDirectory)) return [];
        return Directory.GetFiles(checkpointDirectory, Prefix + "*")
            .Select(p => (Ok: long.TryParse(System.IO.Path.GetFileName(p).AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var s), Seq: s, Path: p))
            .Where(x => x.Ok)
            .OrderByDescending(x => x.Seq)
            .Select(x => (x.Seq, x.Path))
            .ToArray();
    }

    /// <summary>Hashes the FASTER files of <paramref name="token"/> (paths relative to the folder).</summary>
    public static Dictionary<string, string> HashFiles(string checkpointDirectory, Guid token)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var folder in CollectionStore.CheckpointFolders(checkpointDirectory, token))
        {
            if (!Directory.Exists(folder)) continue;
            foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                files[System.IO.Path.GetRelativePath(checkpointDirectory, file).Replace('\\', '/')] = HashFile(file);
            }
        }
        return files;
    }

    public void Write(string checkpointDirectory) =>
        AtomicFile.Write(PathFor(checkpointDirectory, Sequence), Magic, Version, JsonSerializer.Serialize(this));

    /// <summary>Reads a manifest and verifies every file it names; throws InvalidDataException
    /// naming what is wrong.</summary>
    public static CheckpointManifest ReadVerified(string path)
    {
        var manifest = JsonSerializer.Deserialize<CheckpointManifest>(AtomicFile.Read(path, Magic, Version))
            ?? throw new InvalidDataException($"{path}: empty manifest");
        var directory = System.IO.Path.GetDirectoryName(path)!;
        if (manifest.Files.Count == 0) throw new InvalidDataException($"{path}: names no checkpoint files");
        foreach (var (relative, hash) in manifest.Files)
        {
            var file = System.IO.Path.Combine(directory, relative);
            if (!File.Exists(file)) throw new InvalidDataException($"{path}: checkpoint file {relative} is missing");
            if (!string.Equals(HashFile(file), hash, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{path}: checkpoint file {relative} is corrupt (checksum mismatch)");
            }
        }
        return manifest;
    }

    private static string HashFile(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
