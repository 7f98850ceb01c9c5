using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Embedding;

/// <summary>Checks a batch of texts to embed on request (the Embed RPC): InvalidArgument naming the field.</summary>
public static class EmbedInputValidator
{
    /// <summary>
    /// 1..<see cref="EngineLimits.MaxBatchSize"/> texts, none null or blank, each at most
    /// <see cref="EngineLimits.MaxQueryLength"/> (queries) or <see cref="EngineLimits.MaxTextLength"/> (documents)
    /// characters; <paramref name="instruction"/> at most MaxQueryLength.
    /// </summary>
    public static void Validate(IReadOnlyList<string?> texts, bool asQueries, string? instruction, EngineLimits limits)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(limits);
        if (texts.Count == 0) EngineException.ThrowInvalid("texts", "must not be empty");
        if (texts.Count > limits.MaxBatchSize)
        {
            EngineException.ThrowInvalid("texts", $"{texts.Count} texts exceeds the limit {EngineLimits.Cite("max_batch_size", limits.MaxBatchSize, nameof(EngineLimits.MaxBatchSize))}");
        }
        int max = asQueries ? limits.MaxQueryLength : limits.MaxTextLength;
        string limitName = asQueries ? "max_query_length" : "max_text_length";
        for (int i = 0; i < texts.Count; i++)
        {
            var text = texts[i];
            if (string.IsNullOrWhiteSpace(text)) EngineException.ThrowInvalid($"texts[{i}]", "must not be empty");
            if (text.Length > max) EngineException.ThrowInvalid($"texts[{i}]", $"{text.Length} characters exceeds the limit {limitName}={max}");
        }
        if (instruction is { Length: var n } && n > limits.MaxQueryLength)
        {
            EngineException.ThrowInvalid("query_instruction", $"{n} characters exceeds the limit {EngineLimits.Cite("max_query_length", limits.MaxQueryLength, nameof(EngineLimits.MaxQueryLength))}");
        }
    }
}
