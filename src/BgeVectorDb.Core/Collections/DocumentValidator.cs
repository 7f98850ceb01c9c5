using System.Text;
using BgeVectorDb.Core.Errors;

namespace BgeVectorDb.Core.Collections;

/// <summary>Checks writes before anything is written: a batch is accepted or rejected whole.</summary>
internal static class DocumentValidator
{
    public static void ValidateBatch(IReadOnlyList<Document> documents, CollectionConfig config, EngineLimits limits)
    {
        if (documents.Count == 0) EngineException.ThrowInvalid("documents", "the batch is empty");
        if (documents.Count > limits.MaxBatchSize)
        {
            EngineException.ThrowInvalid("documents", $"batch of {documents.Count} documents exceeds the limit max_batch_size={limits.MaxBatchSize}");
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
                EngineException.ThrowInvalid($"{at}.text", $"{d.Text.Length} characters exceeds the limit max_text_length={limits.MaxTextLength}");
            }
            if (d.Vector is { Length: > 0 } v)
            {
                if (v.Length != config.Dimension) EngineException.ThrowInvalid($"{at}.vector", $"expected {config.Dimension} dimensions, got {v.Length}");
                foreach (var x in v)
                {
                    if (!float.IsFinite(x)) EngineException.ThrowInvalid($"{at}.vector", "contains NaN or infinity");
                }
            }
            else
            {
                if (!config.HasEmbedder) EngineException.ThrowInvalid($"{at}.vector", "required: the collection has no embedding model");
                if (string.IsNullOrWhiteSpace(d.Text)) EngineException.ThrowInvalid($"{at}.text", "must not be empty when no vector is given");
            }
            ValidateMetadata(d.Metadata, $"{at}.metadata", limits);
        }
    }

    public static void ValidateId(string id, string field, EngineLimits limits)
    {
        if (string.IsNullOrEmpty(id)) EngineException.ThrowInvalid(field, "must not be empty");
        var bytes = Encoding.UTF8.GetByteCount(id);
        if (bytes > limits.MaxIdBytes) EngineException.ThrowInvalid(field, $"{bytes} bytes exceeds the limit max_id_bytes={limits.MaxIdBytes}");
    }

    public static void ValidateIds(IReadOnlyList<string> ids, EngineLimits limits)
    {
        if (ids.Count == 0) EngineException.ThrowInvalid("ids", "must not be empty");
        if (ids.Count > limits.MaxIdsPerRequest) EngineException.ThrowInvalid("ids", $"{ids.Count} ids exceeds the limit max_ids_per_request={limits.MaxIdsPerRequest}");
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
        if (size > limits.MaxMetadataBytes) EngineException.ThrowInvalid(field, $"{size} bytes exceeds the limit max_metadata_bytes={limits.MaxMetadataBytes}");
    }
}
