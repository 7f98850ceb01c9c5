namespace BgeVectorDb.Core.Embedding;

/// <summary>BGE query-instruction presets (prepended to queries, never to documents).</summary>
public static class QueryInstructions
{
    /// <summary>English BGE models (bge-*-en-v1.5).</summary>
    public const string English = "Represent this sentence for searching relevant passages: ";

    /// <summary>Chinese BGE models (bge-*-zh-v1.5).</summary>
    public const string Chinese = "为这个句子生成表示以用于检索相关文章：";

    /// <summary>
    /// The preset for a model id: for a BGE id (its name starts with "bge-"), Chinese when it contains "-zh",
    /// English when it contains "-en"; "" (no instruction) for every other model, whose prompts come from its
    /// own folder (config_sentence_transformers.json) or the configuration.
    /// </summary>
    public static string ForModel(string modelId)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        var name = modelId[(modelId.LastIndexOf('/') + 1)..];
        if (!name.StartsWith("bge-", StringComparison.OrdinalIgnoreCase))
        {
            return "";
        }

        return name.Contains("-zh", StringComparison.OrdinalIgnoreCase) ? Chinese
            : name.Contains("-en", StringComparison.OrdinalIgnoreCase) ? English
            : "";
    }
}
