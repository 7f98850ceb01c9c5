using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Reranking;

namespace BgeVectorDb.Core.Models;

/// <summary>
/// A provider over models the caller already holds (an embedded engine, tests, benchmarks): at most one embedder
/// and one reranker, which are also the defaults; without them collections are vectors-only / not reranked.
/// Asking for any other model id is an InvalidArgument error naming the config field. It does not own the models.
/// </summary>
public sealed class FixedModelProvider(ITextEmbedder? embedder = null, IReranker? reranker = null) : IModelProvider
{
    /// <summary>A provider without models: collections hold vectors only.</summary>
    public static FixedModelProvider None { get; } = new();

    /// <inheritdoc />
    public string DefaultEmbeddingModel => embedder?.ModelId ?? "none";

    /// <inheritdoc />
    public string DefaultRerankerModel => reranker?.ModelId ?? "none";

    /// <inheritdoc />
    public ITextEmbedder GetEmbedder(string modelId) =>
        embedder is not null && string.Equals(modelId, embedder.ModelId, StringComparison.OrdinalIgnoreCase) ? embedder
            : throw Unknown("embedding model", modelId, embedder?.ModelId, "config.embedding_model");

    /// <inheritdoc />
    public IReranker GetReranker(string modelId) =>
        reranker is not null && string.Equals(modelId, reranker.ModelId, StringComparison.OrdinalIgnoreCase) ? reranker
            : throw Unknown("reranker", modelId, reranker?.ModelId, "config.reranker_model");

    private static EngineException Unknown(string what, string modelId, string? have, string field) =>
        new(EngineErrorKind.InvalidArgument,
            $"{field}: {what} '{modelId}' is not available here ({(have is null ? "no " + what + "s" : $"only '{have}'")})", field);
}
