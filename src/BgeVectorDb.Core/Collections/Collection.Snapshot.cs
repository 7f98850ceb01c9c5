using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Collections;

public sealed partial class Collection
{
    /// <summary>Test hook: awaited after a snapshot's space check, before its files are copied.</summary>
    internal Func<Task>? SnapshotCopyHook { get; set; }

    /// <summary>
    /// Takes a checkpoint and copies it (FasterKV log, that checkpoint's FASTER files and manifest) into
    /// <paramref name="folder"/> with a <see cref="SnapshotDescriptor"/>. Writes continue throughout:
    /// they only wait for the checkpoint's brief cut; the copy runs while checkpoints are held back.
    /// The snapshot holds exactly the writes logged before the descriptor's WAL position.
    /// </summary>
    public async Task<SnapshotDescriptor> CreateSnapshotAsync(string folder, CancellationToken cancellationToken = default)
    {
        if (_store is null || Wal is null) throw new InvalidOperationException($"collection '{Name}' is not durable");
        await _checkpointGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_applier.Closed) throw Deleted();
            var (result, manifest) = await CheckpointUnderGateAsync(cancellationToken).ConfigureAwait(false);
            var temp = folder + ".partial";
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            var tokenFolders = CollectionStore.CheckpointFolders(_store.CheckpointDirectory, manifest.Token)
                .Select(f => Path.GetRelativePath(_store.CheckpointDirectory, f).Replace('\\', '/') + "/").ToArray();
            var manifestName = Path.GetFileName(CheckpointManifest.PathFor(_store.CheckpointDirectory, manifest.Sequence));
            bool IsCheckpointFile(string relative) =>
                relative == manifestName || tokenFolders.Any(t => relative.Replace('\\', '/').StartsWith(t, StringComparison.Ordinal));
            var parent = Path.GetDirectoryName(Path.GetFullPath(folder))!;
            DiskSpace.EnsureRoom(parent, SnapshotDescriptor.TreeBytes(_store.StoreDirectory) + SnapshotDescriptor.TreeBytes(_store.CheckpointDirectory, IsCheckpointFile),
                $"snapshot {Path.GetFileName(folder)}");
            if (SnapshotCopyHook is { } hook) await hook().ConfigureAwait(false);
            Dictionary<string, string> files;
            try
            {
                Directory.CreateDirectory(temp);
                files = SnapshotDescriptor.CopyTree(_store.StoreDirectory, Path.Combine(temp, "store"), "store");
                foreach (var (k, v) in SnapshotDescriptor.CopyTree(_store.CheckpointDirectory, Path.Combine(temp, "checkpoints"), "checkpoints", IsCheckpointFile))
                {
                    files[k] = v;
                }
            }
            catch (IOException ex)
            {
                // A full disk is RESOURCE_EXHAUSTED (judged before the partial copy is removed); the partial copy never stays.
                var full = DiskSpace.FullError(ex, parent, "snapshot copy");
                if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
                if (full is not null) throw full;
                throw;
            }
            var descriptor = new SnapshotDescriptor(Name, Config, CreatedAtMs, manifest.Sequence, result.WalPosition, result.Documents,
                DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), files);
            descriptor.Write(temp);
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.Move(temp, folder);
            return descriptor;
        }
        finally
        {
            _checkpointGate.Release();
        }
    }
}
