using BgeVectorDb.Core.Inference.Batching;

namespace BgeVectorDb.Core.Embedding;

/// <summary>Settings of a <see cref="BgeEmbedder"/>.</summary>
public sealed class BgeEmbedderOptions
{
    /// <summary>Tokens per text, special tokens included; longer texts are truncated. Default 512; also capped
    /// by the model's max_position_embeddings (minus 2 for XLM-R).</summary>
    public int MaxLength { get; set; } = 512;

    /// <summary>Query-instruction preset reported as <see cref="ITextEmbedder.DefaultQueryInstruction"/>; null
    /// (default) = by model id (<see cref="QueryInstructions.ForModel"/>).</summary>
    public string? QueryInstruction { get; set; }

    /// <summary>Dynamic batching bounds (token budget 16384, 256 rows by default).</summary>
    public InferenceBatcherOptions Batching { get; set; } = new();
}
