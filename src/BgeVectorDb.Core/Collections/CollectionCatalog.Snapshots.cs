using System.Globalization;
using BgeVectorDb.Core.Errors;
using BgeVectorDb.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BgeVectorDb.Core.Collections;

public sealed partial class CollectionCatalog
{
    /// <summary>Snapshots one collection into <c>DATA/snapshots/NAME-UTCTIME</c>; returns the folder and
    /// its descriptor.</summary>
    public async Task<(string Folder, SnapshotDescriptor Descriptor)> CreateSnapshotAsync(string name, CancellationToken cancellationToken = default)
    {
        if (_dataDirectory is null) throw new EngineException(EngineErrorKind.FailedPrecondition, "snapshots need a data directory (the server runs in memory)");
        var collection = GetDurable(name);
        var folder = Path.Combine(_dataDirectory, "snapshots",
            $"{name}-{DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}");
        Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
        var descriptor = await collection.CreateSnapshotAsync(folder, cancellationToken).ConfigureAwait(false);
        LogSnapshot(name, folder, descriptor.Documents, descriptor.WalPosition);
        return (folder, descriptor);
    }

    /// <summary>Restores a snapshot folder (verified file by file) as collection <paramref name="name"/>
    /// (empty = the snapshot's own name); the collection must not exist.</summary>
    public Collection RestoreSnapshot(string folder, string? name)
    {
        if (_dataDirectory is null) throw new EngineException(EngineErrorKind.FailedPrecondition, "snapshots need a data directory (the server runs in memory)");
        if (string.IsNullOrEmpty(folder)) EngineException.ThrowInvalid("path", "must not be empty");
        SnapshotDescriptor descriptor;
        try
        {
            descriptor = SnapshotDescriptor.ReadVerified(Path.GetFullPath(folder));
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            throw new EngineException(EngineErrorKind.InvalidArgument, $"path: cannot restore from '{folder}': {ex.Message}", "path");
        }
        var target = string.IsNullOrEmpty(name) ? descriptor.Name : name;
        ValidateName(target, "collection");
        lock (_sync)
        {
            if (_collections.ContainsKey(target) || _failed.ContainsKey(target))
            {
                throw new EngineException(EngineErrorKind.AlreadyExists, $"collection '{target}' already exists");
            }
            var dir = CollectionDirectory(target);
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            var staging = dir + RestoringSuffix;
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            SnapshotDescriptor.CopyTree(folder, staging, "", relative => relative != SnapshotDescriptor.FileName);
            // The restored collection starts a new WAL: replay begins at its start.
            var checkpoints = Path.Combine(staging, "checkpoints");
            var (_, manifestPath) = CheckpointManifest.List(checkpoints).Single();
            var manifest = CheckpointManifest.ReadVerified(manifestPath);
            (manifest with { WalPosition = 0 }).Write(checkpoints);
            Directory.Move(staging, dir);
            var collection = OpenCollection(target, descriptor.Config, descriptor.CreatedAtMs, fresh: false);
            _collections.Add(target, collection);
            SaveCatalog();
            LogRestored(target, folder, collection.Count);
            return collection;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot of collection {Name} written to {Folder}: {Documents} documents, WAL position {Position}")]
    private partial void LogSnapshot(string name, string folder, long documents, long position);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored collection {Name} from snapshot {Folder}: {Documents} documents")]
    private partial void LogRestored(string name, string folder, long documents);
}
