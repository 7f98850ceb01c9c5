using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Errors;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Reranking;

namespace BgeVectorDb.Core.Tests;

/// <summary>A model provider for vectors-only collections: asking it for a model is an error.</summary>
internal sealed class NoModels : IModelProvider
{
    public string DefaultEmbeddingModel => "none";

    public string DefaultRerankerModel => "none";

    public ITextEmbedder GetEmbedder(string modelId) => throw new EngineException(EngineErrorKind.InvalidArgument, "no models", "config.embedding_model");

    public IReranker GetReranker(string modelId) => throw new EngineException(EngineErrorKind.InvalidArgument, "no models", "config.reranker_model");
}
