using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Collections;

public sealed partial class Collection
{
    /// <summary>Test hook: awaited after a snapshot's space check, before its files are copied.</summary>
    internal Func<Task>? SnapshotCopyHook { get; set; }

    /// <summary>
    /// Takes a checkpoint and copies it into <paramref name="folder"/> with a <see cref="SnapshotDescriptor"/>
    /// (<see cref="Checkpointer.CreateSnapshotAsync"/>). Writes continue throughout: they only wait for the
    /// checkpoint's brief cut. The snapshot holds exactly the writes logged before the descriptor's WAL position.
    /// </summary>
    public Task<SnapshotDescriptor> CreateSnapshotAsync(string folder, CancellationToken cancellationToken = default)
    {
        if (_checkpointer is not { } checkpointer) throw new InvalidOperationException($"collection '{Name}' is not durable");
        return checkpointer.CreateSnapshotAsync(folder, Name, Config, CreatedAtMs, SnapshotCopyHook, cancellationToken);
    }
}
