using BgeVectorDb.Core.Telemetry;

namespace BgeVectorDb.Core.Collections;

public sealed partial class CollectionCatalog
{
    private RecallSampler? _recallSampler;

    /// <summary>Samples searches of every collection, open now or later, for live recall telemetry.</summary>
    public void EnableRecallSampling(RecallSampler sampler)
    {
        ArgumentNullException.ThrowIfNull(sampler);
        lock (_sync)
        {
            _recallSampler = sampler;
            foreach (var c in _collections.Values) c.RecallSampler = sampler;
        }
    }
}
