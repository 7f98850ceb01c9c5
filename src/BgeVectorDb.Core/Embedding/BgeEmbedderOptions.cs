using BgeVectorDb.Core.Inference.Batching;

namespace BgeVectorDb.Core.Embedding;

/// <summary>Settings of a <see cref="BgeEmbedder"/>.</summary>
public sealed class BgeEmbedderOptions
{
    /// <summary>Tokens per text, special tokens included; longer texts are truncated. Null (default) = the
    /// model's own limit: tokenizer_config.json model_max_length, capped by max_position_embeddings (minus 2
    /// for XLM-R); 512 when the folder says neither. A value set here is also capped by the model's limit.</summary>
    public int? MaxLength { get; set; }

    /// <summary>Query prompt reported as <see cref="ITextEmbedder.DefaultQueryInstruction"/>; null (default) =
    /// the model folder's (config_sentence_transformers.json), else the BGE preset of the id, else none
    /// (<see cref="EmbeddingProfile"/>).</summary>
    public string? QueryInstruction { get; set; }

    /// <summary>Prompt prepended to every document; null (default) = the model folder's, else none.</summary>
    public string? DocumentInstruction { get; set; }

    /// <summary>Pooling; null (default) = the model folder's (modules.json + 1_Pooling/config.json), else CLS.</summary>
    public Inference.PoolingMode? Pooling { get; set; }

    /// <summary>L2 normalisation; null (default) = whether modules.json lists a Normalize module (true without
    /// modules.json).</summary>
    public bool? Normalize { get; set; }

    /// <summary>Dynamic batching bounds (defaults: <see cref="InferenceBatcherOptions"/>).</summary>
    public InferenceBatcherOptions Batching { get; set; } = new();
}
