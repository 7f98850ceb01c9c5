namespace BgeVectorDb.Core.Embedding;

/// <summary>BGE query-instruction presets (prepended to queries, never to documents).</summary>
public static class QueryInstructions
{
    /// <summary>English BGE models (bge-*-en-v1.5).</summary>
    public const string English = "Represent this sentence for searching relevant passages: ";

    /// <summary>Chinese BGE models (bge-*-zh-v1.5).</summary>
    public const string Chinese = "为这个句子生成表示以用于检索相关文章：";

    /// <summary>The preset for a model id: Chinese when the id contains "-zh" (case-insensitive), else English.</summary>
    public static string ForModel(string modelId)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        return modelId.Contains("-zh", StringComparison.OrdinalIgnoreCase) ? Chinese : English;
    }
}
