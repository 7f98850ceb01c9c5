using BgeVectorDb.Core.Inference.Batching;

namespace BgeVectorDb.Core.Reranking;

/// <summary>Settings of a <see cref="CrossEncoderReranker"/>.</summary>
public sealed class CrossEncoderOptions
{
    /// <summary>Tokens per (query, document) pair, special tokens included; the document is truncated first.
    /// Null (default) = the model's own limit: tokenizer_config.json model_max_length, capped by
    /// max_position_embeddings (minus 2 for XLM-R); 512 when the folder says neither. A value set here is
    /// also capped by the model's limit.</summary>
    public int? MaxLength { get; set; }

    /// <summary>Return sigmoid(logit) in (0, 1) instead of the raw logit. Default false.</summary>
    public bool ApplySigmoid { get; set; }

    /// <summary>Dynamic batching bounds (defaults: <see cref="InferenceBatcherOptions"/>).</summary>
    public InferenceBatcherOptions Batching { get; set; } = new();
}
