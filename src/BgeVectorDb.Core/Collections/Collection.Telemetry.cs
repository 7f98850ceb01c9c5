using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Search;
using BgeVectorDb.Core.Storage;
using BgeVectorDb.Core.Telemetry;

namespace BgeVectorDb.Core.Collections;

/// <summary>Figures of the last checkpoint of a collection (zeros before the first one).</summary>
public sealed record CheckpointFigures(long Count, long WalPosition, long Bytes, double DurationSeconds, long UnixTimeMs);

public sealed partial class Collection : IRecallTarget
{
    private const int RecallWindow = 256;

    private readonly Lock _telemetryLock = new();
    private readonly double[] _recentRecall = new double[RecallWindow];
    private int _recentRecallCount;
    private int _recentRecallNext;
    private CheckpointFigures _lastCheckpoint = new(0, 0, 0, 0, 0);

    /// <summary>Samples index searches for live recall telemetry; null = off. Set by the catalog.</summary>
    internal RecallSampler? RecallSampler { get; set; }

    /// <summary>Vectors in the index (live points).</summary>
    public long VectorCount => _index.Count;

    /// <summary>Mean recall@k over the last (up to 256) sampled searches; null before the first sample.</summary>
    public double? RecentRecall
    {
        get
        {
            lock (_telemetryLock)
            {
                if (_recentRecallCount == 0) return null;
                double sum = 0;
                for (var i = 0; i < _recentRecallCount; i++) sum += _recentRecall[i];
                return sum / _recentRecallCount;
            }
        }
    }

    public CheckpointFigures LastCheckpoint
    {
        get
        {
            lock (_telemetryLock) return _lastCheckpoint;
        }
    }

    /// <summary>
    /// The hook for the storage layer, called by <see cref="Checkpointer"/> (through <see cref="IDurableState"/>) after each
    /// completed checkpoint. Feeds
    /// bgevdb_checkpoints_total, bgevdb_checkpoint_duration_seconds, bgevdb_checkpoint_bytes_total and the
    /// per-collection gauges bgevdb_checkpoint_wal_position / bgevdb_checkpoint_timestamp_seconds /
    /// bgevdb_wal_uncheckpointed_bytes exported by the server.
    /// </summary>
    /// <param name="duration">Time the checkpoint took.</param>
    /// <param name="walPosition">WAL position the checkpoint covers (recovery replays from here).</param>
    /// <param name="bytes">Bytes the checkpoint wrote.</param>
    public void RecordCheckpoint(TimeSpan duration, long walPosition, long bytes)
    {
        var tag = EngineMetrics.Tag("collection", Name);
        EngineMetrics.Checkpoints.Add(1, tag);
        EngineMetrics.CheckpointDuration.Record(duration.TotalSeconds, tag);
        EngineMetrics.CheckpointBytes.Add(bytes, tag);
        lock (_telemetryLock)
        {
            _lastCheckpoint = new CheckpointFigures(_lastCheckpoint.Count + 1, walPosition, bytes, duration.TotalSeconds,
                DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }
    }

    /// <summary>At recovery: the WAL position of the checkpoint loaded, so the uncheckpointed figure is right
    /// before this process takes its first checkpoint (counts and durations start at zero).</summary>
    private void RestoreCheckpointPosition(long walPosition)
    {
        lock (_telemetryLock) _lastCheckpoint = _lastCheckpoint with { WalPosition = walPosition };
    }

    /// <summary>On the search path, after the index answered: maybe queue this search for an exact rerun.</summary>
    private void SampleRecall(float[] query, int k, Filter? filter, int? excludeId, Candidate[] found)
    {
        var sampler = RecallSampler;
        if (sampler is null || !sampler.ShouldSample()) return;
        var returned = new int[found.Length];
        for (var i = 0; i < found.Length; i++) returned[i] = found[i].InternalId;
        sampler.TryEnqueue(new RecallProbe(this, query, k, filter, excludeId, returned));
    }

    /// <summary>
    /// Reruns a sampled search exactly (an exact candidate read with the same filter and exclusion) and returns
    /// recall@k = |returned ∩ exact top-k| / |exact top-k|, or null when nothing matches. Writes landing between the
    /// search and its rerun can move the figure slightly.
    /// </summary>
    double? IRecallTarget.MeasureRecall(RecallProbe probe) => MeasureRecall(probe);

    internal double? MeasureRecall(RecallProbe probe)
    {
        var exact = Candidates(new CandidateRequest(probe.Query, probe.K, probe.Filter, probe.ExcludeId, Exact: true)).Hits;
        if (exact.Length == 0) return null;
        var returned = new HashSet<int>(probe.Returned);
        var hits = 0;
        foreach (var e in exact)
        {
            if (returned.Contains(e.InternalId)) hits++;
        }
        var recall = (double)hits / exact.Length;
        lock (_telemetryLock)
        {
            _recentRecall[_recentRecallNext] = recall;
            _recentRecallNext = (_recentRecallNext + 1) % RecallWindow;
            _recentRecallCount = Math.Min(_recentRecallCount + 1, RecallWindow);
        }
        return recall;
    }
}
