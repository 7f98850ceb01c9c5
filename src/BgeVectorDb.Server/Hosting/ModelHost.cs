using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Errors;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Reranking;
using Microsoft.Extensions.Options;

namespace BgeVectorDb.Server.Hosting;

/// <summary>A model the server has loaded, as reported by the info RPC.</summary>
internal sealed record LoadedModel(string Role, string Id, string Path, string Family, int Dimension, int MaxLength, bool Synthetic);

/// <summary>Which execution provider inference uses and why.</summary>
internal sealed record ProviderInfo(string Provider, string Reason, IReadOnlyList<string> Available);

/// <summary>
/// Loads the configured models at start (failing fast, with every way to supply them named, when one
/// is missing) and hands them to collections. One instance per model id, shared by all collections.
/// </summary>
internal sealed class ModelHost : IModelProvider, IDisposable
{
    private readonly Dictionary<string, ITextEmbedder> _embedders = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, IReranker> _rerankers = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<LoadedModel> _loaded = [];

    public ModelHost(IOptions<InferenceOptions> options)
    {
        var o = options.Value;
        DefaultEmbeddingModel = o.EmbeddingModel;
        DefaultRerankerModel = o.RerankerModel;
        Provider = new ProviderInfo("cpu", "no model loaded", ["CPUExecutionProvider"]);
    }

    public string DefaultEmbeddingModel { get; }

    public string DefaultRerankerModel { get; }

    public ProviderInfo Provider { get; }

    public IReadOnlyList<LoadedModel> Loaded => _loaded;

    public ITextEmbedder GetEmbedder(string modelId) =>
        _embedders.TryGetValue(modelId, out var e) ? e
            : throw new EngineException(EngineErrorKind.InvalidArgument,
                $"config.embedding_model: model '{modelId}' is not loaded by this server (loaded: {string.Join(", ", _embedders.Keys.DefaultIfEmpty("none"))})",
                "config.embedding_model");

    public IReranker GetReranker(string modelId) =>
        _rerankers.TryGetValue(modelId, out var r) ? r
            : throw new EngineException(EngineErrorKind.InvalidArgument,
                $"config.reranker_model: model '{modelId}' is not loaded by this server (loaded: {string.Join(", ", _rerankers.Keys.DefaultIfEmpty("none"))})",
                "config.reranker_model");

    public void Dispose()
    {
        foreach (var d in _embedders.Values.Concat<object>(_rerankers.Values).OfType<IDisposable>()) d.Dispose();
    }
}
