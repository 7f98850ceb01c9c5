using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Reranking;

namespace BgeVectorDb.Core.Models;

/// <summary>Gives collections the models they name. The server's implementation resolves, loads and
/// shares them (one loaded instance per model id).</summary>
public interface IModelProvider
{
    /// <summary>Embedding model used when a collection names none.</summary>
    string DefaultEmbeddingModel { get; }

    /// <summary>Reranker used when a collection names none ("none" when the server has no reranker).</summary>
    string DefaultRerankerModel { get; }

    /// <summary>The embedder for <paramref name="modelId"/>; throws EngineException (InvalidArgument)
    /// when it cannot be had.</summary>
    ITextEmbedder GetEmbedder(string modelId);

    /// <summary>The reranker for <paramref name="modelId"/>; throws EngineException (InvalidArgument)
    /// when it cannot be had.</summary>
    IReranker GetReranker(string modelId);
}
