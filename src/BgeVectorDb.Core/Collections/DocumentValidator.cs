using System.Text;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Collections;

/// <summary>Checks writes before anything is written: a batch is accepted or rejected whole.</summary>
internal static class DocumentValidator
{
    public static void ValidateBatch(IReadOnlyList<Document> documents, CollectionConfig config, EngineLimits limits)
    {
        if (documents.Count == 0) EngineException.ThrowInvalid("documents", "the batch is empty");
        if (documents.Count > limits.MaxBatchSize)
        {
            EngineException.ThrowInvalid("documents", $"batch of {documents.Count} documents exceeds the limit {EngineLimits.Cite("max_batch_size", limits.MaxBatchSize, nameof(EngineLimits.MaxBatchSize))}");
        }
        var seen = new Dictionary<string, int>(documents.Count, StringComparer.Ordinal);
        for (var i = 0; i < documents.Count; i++)
        {
            var d = documents[i];
            var at = $"documents[{i}]";
            ValidateId(d.Id, $"{at}.id", limits);
            if (!seen.TryAdd(d.Id, i)) EngineException.ThrowInvalid($"{at}.id", $"'{d.Id}' repeats documents[{seen[d.Id]}].id in the same batch");
            if (d.Text.Length > limits.MaxTextLength)
            {
                EngineException.ThrowInvalid($"{at}.text", $"{d.Text.Length} characters exceeds the limit {EngineLimits.Cite("max_text_length", limits.MaxTextLength, nameof(EngineLimits.MaxTextLength))}");
            }
            if (d.Vector is { Length: > 0 } v)
            {
                ValidateVector(v, config, $"{at}.vector");
            }
            else
            {
                if (!config.HasEmbedder) EngineException.ThrowInvalid($"{at}.vector", "required: the collection has no embedding model");
                if (string.IsNullOrWhiteSpace(d.Text)) EngineException.ThrowInvalid($"{at}.text", "must not be empty when no vector is given");
            }
            ValidateMetadata(d.Metadata, $"{at}.metadata", limits);
        }
    }

    /// <summary>A vector the index can score: the collection's dimension, finite components, a squared norm
    /// within float range (else dot products and L2 distances overflow to infinity and the vector would top or
    /// trail every query; cosine used to skip normalising it), and for cosine a non-zero norm (no direction).</summary>
    public static void ValidateVector(ReadOnlySpan<float> v, CollectionConfig config, string field)
    {
        if (v.Length != config.Dimension) EngineException.ThrowInvalid(field, $"expected {config.Dimension} dimensions, got {v.Length}");
        foreach (var x in v)
        {
            if (!float.IsFinite(x)) EngineException.ThrowInvalid(field, "contains NaN or infinity");
        }
        // |a.b| <= |a||b| stays finite when both squared norms are <= float.MaxValue; |a-b|^2 <= 4 max(|a|^2, |b|^2) needs a quarter of it.
        var squaredNorm = VectorMath.SquaredNorm(v);
        var limit = config.Distance == DistanceKind.L2 ? float.MaxValue / 4.0 : float.MaxValue;
        if (squaredNorm > limit)
        {
            EngineException.ThrowInvalid(field, FormattableString.Invariant(
                $"its squared norm {squaredNorm:G3} is beyond single precision (largest {limit:G3} for {config.Distance}): scores would be infinite; scale the vector down"));
        }
        if (config.Distance == DistanceKind.Cosine && squaredNorm == 0)
        {
            EngineException.ThrowInvalid(field, "has zero norm: a cosine collection needs a non-zero vector (it has no direction)");
        }
    }

    public static void ValidateId(string id, string field, EngineLimits limits)
    {
        if (string.IsNullOrEmpty(id)) EngineException.ThrowInvalid(field, "must not be empty");
        var bytes = Encoding.UTF8.GetByteCount(id);
        if (bytes > limits.MaxIdBytes) EngineException.ThrowInvalid(field, $"{bytes} bytes exceeds the limit {EngineLimits.Cite("max_id_bytes", limits.MaxIdBytes, nameof(EngineLimits.MaxIdBytes))}");
    }

    public static void ValidateIds(IReadOnlyList<string> ids, EngineLimits limits)
    {
        if (ids.Count == 0) EngineException.ThrowInvalid("ids", "must not be empty");
        if (ids.Count > limits.MaxIdsPerRequest) EngineException.ThrowInvalid("ids", $"{ids.Count} ids exceeds the limit {EngineLimits.Cite("max_ids_per_request", limits.MaxIdsPerRequest, nameof(EngineLimits.MaxIdsPerRequest))}");
        for (var i = 0; i < ids.Count; i++) ValidateId(ids[i], $"ids[{i}]", limits);
    }

    private static void ValidateMetadata(IReadOnlyDictionary<string, MetadataValue> metadata, string field, EngineLimits limits)
    {
        var size = 0;
        foreach (var (key, value) in metadata)
        {
            if (string.IsNullOrEmpty(key)) EngineException.ThrowInvalid(field, "keys must not be empty");
            if (key.Length > 256) EngineException.ThrowInvalid($"{field}[{key[..32]}...]", "key longer than 256 characters");
            if (value.Kind == MetadataKind.Double && !double.IsFinite(value.DoubleValue))
            {
                EngineException.ThrowInvalid($"{field}[{key}]", "must be a finite number");
            }
            size += Encoding.UTF8.GetByteCount(key) + value.SizeBytes;
        }
        if (size > limits.MaxMetadataBytes) EngineException.ThrowInvalid(field, $"{size} bytes exceeds the limit {EngineLimits.Cite("max_metadata_bytes", limits.MaxMetadataBytes, nameof(EngineLimits.MaxMetadataBytes))}");
    }
}
