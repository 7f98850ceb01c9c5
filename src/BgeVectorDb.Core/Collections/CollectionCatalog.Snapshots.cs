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
            descriptor = SnapshotRestore.ReadVerified(source);
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
            await Task.Run(() => SnapshotRestore.Stage(source, staging, descriptor, folder), cancellationToken).ConfigureAwait(false);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot of collection {Name} written to {Folder}: {Documents} documents, WAL position {Position}")]
    private partial void LogSnapshot(string name, string folder, long documents, long position);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored collection {Name} from snapshot {Folder}: {Documents} documents")]
    private partial void LogRestored(string name, string folder, long documents);
}
