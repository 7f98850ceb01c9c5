using BgeVectorDb.Common.Errors;

namespace BgeVectorDb.Core.Storage;

/// <summary>
/// The file side of restoring a snapshot (<see cref="Checkpointer.CreateSnapshotAsync"/> wrote it): the snapshot
/// folder is checked against its descriptor, copied into a staging folder with the layout of a collection folder
/// (<see cref="CollectionLayout"/>), each copy re-hashed, and its manifest rewritten to replay a fresh WAL from its
/// start. The catalog then moves the staging folder into place and recovers it like any collection.
/// </summary>
internal static class SnapshotRestore
{
    /// <summary>The descriptor of the snapshot in <paramref name="source"/>, verified (its own checksum, every file it
    /// lists); the folder must hold no file it does not list. Throws InvalidDataException (or an I/O or JSON error)
    /// naming the file.</summary>
    public static SnapshotDescriptor ReadVerified(string source)
    {
        var descriptor = SnapshotDescriptor.ReadVerified(source);
        var unlisted = Directory.GetFiles(source, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(source, f).Replace('\\', '/'))
            .Where(r => r != SnapshotDescriptor.FileName && !descriptor.Files.ContainsKey(r))
            .Order(StringComparer.Ordinal).ToArray();
        if (unlisted.Length > 0)
        {
            throw new InvalidDataException($"snapshot file {unlisted[0]} is not listed in {SnapshotDescriptor.FileName}"
                + (unlisted.Length > 1 ? $" (and {unlisted.Length - 1} more)" : "") + "; a snapshot folder must hold only its own files");
        }
        return descriptor;
    }

    /// <summary>Copies exactly the files the descriptor lists into <paramref name="staging"/>, checks each copy's hash
    /// and rewrites the (single) checkpoint manifest so recovery replays the restored collection's new WAL from its
    /// start. INVALID_ARGUMENT naming <paramref name="folder"/> (as the caller gave it) and the file otherwise.</summary>
    public static void Stage(string source, string staging, SnapshotDescriptor descriptor, string folder)
    {
        Directory.CreateDirectory(staging);
        foreach (var (relative, hash) in descriptor.Files)
        {
            var destination = Path.GetFullPath(Path.Combine(staging, relative));
            if (!destination.StartsWith(Path.GetFullPath(staging) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new EngineException(EngineErrorKind.InvalidArgument, $"path: cannot restore from '{folder}': snapshot file {relative} points outside the snapshot", "path");
            }
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(Path.Combine(source, relative), destination, overwrite: true);
            using (var fs = new FileStream(destination, FileMode.Open, FileAccess.ReadWrite))
            {
                fs.Flush(flushToDisk: true);
            }
            if (!string.Equals(SnapshotDescriptor.HashFile(destination), hash, StringComparison.Ordinal))
            {
                throw new EngineException(EngineErrorKind.InvalidArgument, $"path: cannot restore from '{folder}': snapshot file {relative} changed while it was copied (checksum mismatch)", "path");
            }
        }
        var manifests = CheckpointManifest.List(CollectionLayout.CheckpointDirectory(staging));
        if (manifests.Count != 1)
        {
            throw new EngineException(EngineErrorKind.InvalidArgument,
                $"path: cannot restore from '{folder}': a snapshot holds exactly one checkpoint manifest, found {manifests.Count}", "path");
        }
        // The restored collection starts a new WAL: replay begins at its start.
        var manifest = CheckpointManifest.ReadVerified(manifests[0].Path);
        (manifest with { WalPosition = 0 }).Write(Path.GetDirectoryName(manifests[0].Path)!);
    }
}
