using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Storage;

internal sealed partial class Checkpointer
{
    /// <summary>
    /// Takes a checkpoint and copies it (FasterKV log, that checkpoint's FASTER files and manifest) into
    /// <paramref name="folder"/> with a <see cref="SnapshotDescriptor"/> (naming the collection as
    /// <paramref name="name"/>, <paramref name="config"/>, <paramref name="createdAtMs"/>). Writes continue
    /// throughout: they only wait for the checkpoint's brief cut; the copy runs while checkpoints are held back. The
    /// snapshot holds exactly the writes logged before the descriptor's WAL position. A copy that would not fit is
    /// refused before it starts, one that runs out of space anyway is removed (RESOURCE_EXHAUSTED either way).
    /// <paramref name="copyHook"/> (tests) is awaited after the space check, before the copy.
    /// </summary>
    public async Task<SnapshotDescriptor> CreateSnapshotAsync(string folder, string name, CollectionConfig config, long createdAtMs,
        Func<Task>? copyHook, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _applier.ThrowIfClosed();
            var (result, manifest) = await CheckpointUnderGateAsync(cancellationToken).ConfigureAwait(false);
            var store = _store!;
            var temp = folder + ".partial";
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            var tokenFolders = CollectionStore.CheckpointFolders(store.CheckpointDirectory, manifest.Token)
                .Select(f => Path.GetRelativePath(store.CheckpointDirectory, f).Replace('\\', '/') + "/").ToArray();
            var manifestName = Path.GetFileName(CheckpointManifest.PathFor(store.CheckpointDirectory, manifest.Sequence));
            bool IsCheckpointFile(string relative) =>
                relative == manifestName || tokenFolders.Any(t => relative.Replace('\\', '/').StartsWith(t, StringComparison.Ordinal));
            var parent = Path.GetDirectoryName(Path.GetFullPath(folder))!;
            DiskSpace.EnsureRoom(parent, SnapshotDescriptor.TreeBytes(store.StoreDirectory) + SnapshotDescriptor.TreeBytes(store.CheckpointDirectory, IsCheckpointFile),
                $"snapshot {Path.GetFileName(folder)}");
            if (copyHook is not null) await copyHook().ConfigureAwait(false);
            Dictionary<string, string> files;
            try
            {
                Directory.CreateDirectory(temp);
                files = SnapshotDescriptor.CopyTree(store.StoreDirectory, CollectionLayout.StoreDirectory(temp), CollectionLayout.Store);
                foreach (var (k, v) in SnapshotDescriptor.CopyTree(store.CheckpointDirectory, CollectionLayout.CheckpointDirectory(temp), CollectionLayout.Checkpoints, IsCheckpointFile))
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
            var descriptor = new SnapshotDescriptor(name, config, createdAtMs, manifest.Sequence, result.WalPosition, result.Documents,
                DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), files);
            descriptor.Write(temp);
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.Move(temp, folder);
            return descriptor;
        }
        finally
        {
            _gate.Release();
        }
    }
}
