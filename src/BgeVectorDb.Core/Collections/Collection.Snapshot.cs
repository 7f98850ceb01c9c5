using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Collections;

public sealed partial class Collection
{
    /// <summary>
    /// Takes a checkpoint and copies it (FasterKV log, that checkpoint's FASTER files and manifest) into
    /// <paramref name="folder"/> with a <see cref="SnapshotDescriptor"/>. Writes continue throughout:
    /// they only wait for the checkpoint's brief cut; the copy runs while checkpoints are held back.
    /// The snapshot holds exactly the writes logged before the descriptor's WAL position.
    /// </summary>
    public async Task<SnapshotDescriptor> CreateSnapshotAsync(string folder, CancellationToken cancellationToken = default)
    {
        if (_store is null || _wal is null) throw new InvalidOperationException($"collection '{Name}' is not durable");
        await _checkpointGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closed) throw Deleted();
            var (result, manifest) = await CheckpointUnderGateAsync(cancellationToken).ConfigureAwait(false);
            var temp = folder + ".partial";
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            Directory.CreateDirectory(temp);
            var files = SnapshotDescriptor.CopyTree(_store.StoreDirectory, Path.Combine(temp, "store"), "store");
            var tokenFolders = CollectionStore.CheckpointFolders(_store.CheckpointDirectory, manifest.Token)
                .Select(f => Path.GetRelativePath(_store.CheckpointDirectory, f).Replace('\\', '/') + "/").ToArray();
            var manifestName = Path.GetFileName(CheckpointManifest.PathFor(_store.CheckpointDirectory, manifest.Sequence));
            foreach (var (k, v) in SnapshotDescriptor.CopyTree(_store.CheckpointDirectory, Path.Combine(temp, "checkpoints"), "checkpoints",
                relative => relative == manifestName || tokenFolders.Any(t => relative.Replace('\\', '/').StartsWith(t, StringComparison.Ordinal))))
            {
                files[k] = v;
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
