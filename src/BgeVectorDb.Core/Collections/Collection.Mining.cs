using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Search;

namespace BgeVectorDb.Core.Collections;

/// <summary>A ranked ANN hit as the miner sees it: id, text, similarity and 1-based rank.</summary>
public readonly record struct MiningHit(string Id, string Text, float Score, int Rank);

public sealed partial class Collection
{
    /// <summary>The query vector the miner searches with: <paramref name="vector"/> when given (checked,
    /// normalised for cosine), else the query embedded with <paramref name="instruction"/> in the
    /// bulk (ingest) lane of the model's scheduler, so mining never delays interactive searches.</summary>
    internal async Task<float[]> MiningQueryVectorAsync(string query, float[]? vector, string instruction, string field, CancellationToken cancellationToken)
    {
        float[] q;
        if (vector is not null)
        {
            if (vector.Length != Config.Dimension) EngineException.ThrowInvalid(field, $"expected {Config.Dimension} dimensions, got {vector.Length}");
            foreach (var x in vector)
            {
                if (!float.IsFinite(x)) EngineException.ThrowInvalid(field, "contains NaN or infinity");
            }
            q = (float[])vector.Clone();
        }
        else
        {
            var embedder = Embedder ?? throw new EngineException(EngineErrorKind.FailedPrecondition,
                $"collection '{Name}' has no embedding model: give query vectors to mine it");
            q = await embedder.EmbedQueryAsync(query, instruction, Inference.InferencePriority.Ingest, cancellationToken).ConfigureAwait(false);
        }
        if (Config.Distance == DistanceKind.Cosine) VectorMath.NormalizeInPlace(q);
        return q;
    }

    /// <summary>The best <paramref name="n"/> hits (filter applied) with their texts, best first, through
    /// the collection's index (whatever kind it is).</summary>
    internal MiningHit[] MiningCandidates(float[] queryVector, int n, Filter? filter) =>
        Candidates(new CandidateRequest(queryVector, n, filter, Ef: Math.Max(Config.Hnsw.EfSearch, n))).Hits
            .Select(c => new MiningHit(c.Id, c.Text, c.Score, c.Rank)).ToArray();

    /// <summary>Texts of stored documents by id, in order; null for an id not stored.</summary>
    internal string?[] MiningTexts(IReadOnlyList<string> ids)
    {
        var texts = new string?[ids.Count];
        _lock.EnterReadLock();
        try
        {
            for (var i = 0; i < ids.Count; i++)
            {
                texts[i] = _idMap.TryGetValue(ids[i], out var internalId) && _records[internalId] is { } r ? r.Text : null;
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return texts;
    }

    internal EngineLimits Limits => _limits;
}
