using System.Diagnostics;
using BgeVectorDb.Common.Errors;

namespace BgeVectorDb.Core.Storage;

/// <summary>
/// Store generations. FasterKV's log only grows (a rewritten record leaves its old version behind) and both kept
/// checkpoints of one store share the records written before them, so one damaged record would make the whole store
/// unusable. Once the WAL written since the previous generation's last checkpoint exceeds the larger of
/// Storage:StoreRewriteWalBytes and the current generation's size when it was written whole, the store is rewritten
/// whole into a fresh folder (only live records: compaction), in chunks of ids each copied under a short write hold,
/// then a last hold copies the ids written meanwhile. The old generation then becomes the fallback: it shares no file
/// with the new one, and the WAL from its last checkpoint on is kept, so a damaged record in the new store is rebuilt
/// from the fallback plus the WAL. Every generation older than the fallback is deleted and the WAL truncated behind
/// the fallback's last checkpoint (unless Storage:KeepWholeWal). Disk use stays bounded: two stores of about the live
/// size plus the garbage written since each was written whole, and a WAL of about the rewrite threshold.
/// </summary>
internal sealed partial class Checkpointer
{
    private GenerationInfo _generation;

    // Ids written since a rewrite started copying (guarded by _dirtyLock); null when no rewrite runs.
    private HashSet<int>? _rewriteDirty;

    /// <summary>Ids copied per write hold while a generation is rewritten (tests make it small).</summary>
    internal int RewriteChunkIds { get; set; } = 4096;

    /// <summary>The store generation checkpoints go to now, and the fallback behind it.</summary>
    internal GenerationInfo Generation => _generation;

    /// <summary>WAL bytes written since the fallback's last checkpoint (since the WAL's first entry with no fallback).</summary>
    private long WalSinceFallback => _wal.TailPosition - (_generation.FallbackPosition ?? _wal.BeginPosition);

    /// <summary>A new generation is due: asked for (recovery found damage), or enough WAL since the fallback.</summary>
    private bool RewriteDue() =>
        _generation.RewriteNeeded || WalSinceFallback > Math.Max(_options.StoreRewriteWalBytes, _generation.BaseBytes);

    /// <summary>Writes the whole collection into a new generation's store and checkpoints it; then that generation is
    /// current, the one before it the fallback, older ones are deleted and the WAL truncated behind the fallback. On
    /// failure the new generation's files are removed and the current one is left as it was (the WAL keeps every
    /// write).</summary>
    private async Task<(CheckpointResult Result, CheckpointManifest Manifest)> RewriteUnderGateAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var directory = _generation.CollectionDirectory;
        var number = CollectionLayout.NextGeneration(directory);
        var folder = CollectionLayout.GenerationDirectory(directory, number);
        CollectionStore? fresh = null;
        HashSet<int>? taken = null;
        try
        {
            fresh = CollectionStore.Create(CollectionLayout.StoreDirectory(folder), CollectionLayout.CheckpointDirectory(folder), TimeSpan.FromSeconds(_options.CheckpointTimeoutSeconds));
            lock (_dirtyLock) _rewriteDirty = [];
            // Every id below the slot count read now is copied by a chunk; ids allocated later are in _rewriteDirty.
            var slots = _state.Slots;
            for (var from = 0; from < slots; from += RewriteChunkIds)
            {
                var chunk = Enumerable.Range(from, Math.Min(RewriteChunkIds, slots - from)).ToArray();
                using var hold = await _applier.HoldAsync(cancellationToken).ConfigureAwait(false);
                using var writer = fresh.BeginWrite();
                WriteRecords(writer, chunk, fresh: true);
            }
            long position;
            CutCounts counts;
            TimeSpan held;
            HashSet<int> changed;
            using (var hold = await _applier.HoldAsync(cancellationToken).ConfigureAwait(false))
            {
                position = hold.Position;
                lock (_dirtyLock)
                {
                    changed = _rewriteDirty;
                    _rewriteDirty = null;
                    taken = _dirty;
                    _dirty = [];
                }
                counts = WriteCut(fresh, changed, position);
                hold.ResetWrites();
                held = Stopwatch.GetElapsedTime(hold.HeldSince);
            }
            var token = await fresh.CheckpointAsync(CancellationToken.None).ConfigureAwait(false);
            var manifest = new CheckpointManifest(_sequence + 1, token, position, counts.Documents, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                CheckpointManifest.HashFiles(fresh.CheckpointDirectory, token), BaseBytes: fresh.LogBytes);
            manifest.Write(fresh.CheckpointDirectory);

            var previous = _generation;
            _store?.Dispose();
            _store = fresh;
            // The old generation is the fallback when it has a checkpoint (a dropped store keeps its last good one).
            var fallback = previous.CheckpointPosition is not null ? previous.Number : (int?)null;
            _generation = new GenerationInfo(directory, number, manifest.BaseBytes, position, previous.CheckpointPosition);
            foreach (var old in CollectionLayout.Generations(directory))
            {
                if (old != number && old != fallback) TryDeleteGeneration(directory, old);
            }
            await TruncateWalAsync().ConfigureAwait(false);
            return (Completed(fresh, manifest, counts, slots + changed.Count, held, started) with { Generation = number }, manifest);
        }
        catch (Exception ex)
        {
            lock (_dirtyLock)
            {
                _rewriteDirty = null;
                if (taken is not null) _dirty.UnionWith(taken);
            }
            if (fresh is not null && !ReferenceEquals(fresh, _store))
            {
                if (ex is StoreCheckpointFailedException) fresh.Abandon();
                else fresh.Dispose();
                TryDeleteGeneration(directory, number);
            }
            if (ex is StoreCheckpointFailedException failed) throw CheckpointFailed(failed);
            if (ex is IOException io && DiskSpace.FullError(io, directory, $"rewrite of collection '{_name}'") is { } full) throw full;
            throw;
        }
    }

    private static void TryDeleteGeneration(string directory, int number)
    {
        try
        {
            CollectionLayout.DeleteGeneration(directory, number);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // left for the next rewrite, which deletes every generation but the two it keeps
        }
    }

    /// <summary>Truncates the WAL behind the fallback's last checkpoint: recovery never needs anything older (the
    /// current generation's checkpoints are all newer). Nothing with no fallback, or with Storage:KeepWholeWal.</summary>
    private async Task TruncateWalAsync()
    {
        if (_options.KeepWholeWal || _generation.FallbackPosition is not { } fallback || fallback <= 0) return;
        await _wal.TruncateBeforeAsync(fallback).ConfigureAwait(false);
    }
}
