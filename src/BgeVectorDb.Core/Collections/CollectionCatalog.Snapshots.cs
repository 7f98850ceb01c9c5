using System.Globalization;
using BgeVectorDb.Common.Errors;
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

    /// <summary>Test hook: awaited after a restore's copy, before it recovers the copy (outside the catalog lock).</summary>
    internal Func<Task>? RestoreHook { get; set; }

    /// <summary>
    /// Restores a snapshot folder as collection <paramref name="name"/> (empty = the snapshot's own name); the
    /// collection must not exist. The folder must hold exactly the files its descriptor lists, each matching its
    /// hash (INVALID_ARGUMENT naming the file otherwise). The name is reserved under the catalog lock; the copy,
    /// its verification and the recovery run outside it, so other collections are served meanwhile. Any failure
    /// removes the staging folder and releases the name.
    /// </summary>
    public async Task<Collection> RestoreSnapshotAsync(string folder, string? name, CancellationToken cancellationToken = default)
    {
        if (_dataDirectory is null) throw new EngineException(EngineErrorKind.FailedPrecondition, "snapshots need a data directory (the server runs in memory)");
        if (string.IsNullOrEmpty(folder)) EngineException.ThrowInvalid("path", "must not be empty");
        var source = Path.GetFullPath(folder);
        SnapshotDescriptor descriptor;
        try
        {
            descriptor = SnapshotDescriptor.ReadVerified(source);
            var unlisted = Directory.GetFiles(source, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(source, f).Replace('\\', '/'))
                .Where(r => r != SnapshotDescriptor.FileName && !descriptor.Files.ContainsKey(r))
                .Order(StringComparer.Ordinal).ToArray();
            if (unlisted.Length > 0)
            {
                throw new InvalidDataException($"snapshot file {unlisted[0]} is not listed in {SnapshotDescriptor.FileName}"
                    + (unlisted.Length > 1 ? $" (and {unlisted.Length - 1} more)" : "") + "; a snapshot folder must hold only its own files");
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            throw new EngineException(EngineErrorKind.InvalidArgument, $"path: cannot restore from '{folder}': {ex.Message}", "path");
        }
        var target = string.IsNullOrEmpty(name) ? descriptor.Name : name;
        ValidateName(target, "collection");
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        while (true)
        {
            Task? running;
            lock (_sync)
            {
                if (!_pending.TryGetValue(target, out running))
                {
                    if (_collections.ContainsKey(target) || _failed.ContainsKey(target))
                    {
                        throw new EngineException(EngineErrorKind.AlreadyExists, $"collection '{target}' already exists");
                    }
                    _pending[target] = done.Task;
                    break;
                }
            }
            await running.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        var dir = CollectionDirectory(target);
        var staging = dir + RestoringSuffix;
        Collection? collection = null;
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);   // leftovers of a crashed create
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            var manifestPath = await Task.Run(() => CopyVerified(source, staging, descriptor, folder), cancellationToken).ConfigureAwait(false);
            // The restored collection starts a new WAL: replay begins at its start.
            var manifest = CheckpointManifest.ReadVerified(manifestPath);
            (manifest with { WalPosition = 0 }).Write(Path.GetDirectoryName(manifestPath)!);
            if (RestoreHook is { } hook) await hook().ConfigureAwait(false);
            Directory.Move(staging, dir);
            collection = await Task.Run(() => OpenCollection(target, descriptor.Config, descriptor.CreatedAtMs, fresh: false), cancellationToken).ConfigureAwait(false);
            lock (_sync)
            {
                _collections.Add(target, collection);
                try
                {
                    SaveCatalog();
                }
                catch
                {
                    _collections.Remove(target);
                    throw;
                }
            }
        }
        catch
        {
            if (collection is not null) await collection.DisposeAsync().ConfigureAwait(false);
            foreach (var leftover in new[] { staging, dir })
            {
                if (Directory.Exists(leftover)) RemoveTombstone(leftover);
            }
            throw;
        }
        finally
        {
            lock (_sync) _pending.Remove(target);
            done.SetResult();
        }
        LogRestored(target, folder, collection.Count);
        return collection;
    }

    /// <summary>Copies exactly the files the descriptor lists into <paramref name="staging"/> and checks each copy's
    /// hash; returns the path of the copied checkpoint manifest (the snapshot must hold exactly one).</summary>
    private static string CopyVerified(string source, string staging, SnapshotDescriptor descriptor, string folder)
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
        return manifests[0].Path;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot of collection {Name} written to {Folder}: {Documents} documents, WAL position {Position}")]
    private partial void LogSnapshot(string name, string folder, long documents, long position);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored collection {Name} from snapshot {Folder}: {Documents} documents")]
    private partial void LogRestored(string name, string folder, long documents);
}
