using BgeVectorDb.Core.Telemetry;

namespace BgeVectorDb.Core.Inference.Batching;

public sealed partial class InferenceBatcher<TResult>
{
    private KeyValuePair<string, object?>[]? _metricTags;

    /// <summary>Rows waiting (queued, or in a sorted window and not yet run), over every priority lane.</summary>
    public long QueuedRows
    {
        get
        {
            lock (_gate)
            {
                long rows = 0;
                foreach (var lane in _lanes)
                {
                    foreach (var r in lane.Pending)
                    {
                        if (!r.Completion.Task.IsCompleted) rows += r.Rows.Length - r.NextRow;
                    }
                    rows += lane.Window.Count - lane.WindowNext;
                }
                return rows;
            }
        }
    }

    /// <summary>Exports this batcher's batch sizes and queue depth, labelled model=<paramref name="modelId"/>, role=<paramref name="role"/>.</summary>
    public void EnableMetrics(string modelId, string role)
    {
        var tags = new[] { EngineMetrics.Tag("model", modelId), EngineMetrics.Tag("role", role) };
        _metricTags = tags;
        InferenceQueueMetrics.Register(this, () => QueuedRows, () => Statistics.QueuedTokens, () => Statistics.Rejected, tags);
    }

    private void RecordBatchMetrics(int rows)
    {
        if (_metricTags is { } tags) EngineMetrics.InferenceBatchRows.Record(rows, tags);
    }

    private void DisableMetrics() => InferenceQueueMetrics.Unregister(this);
}
