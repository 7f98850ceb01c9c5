using BgeVectorDb.Common.Models;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Reranking;
using Microsoft.Extensions.Options;

namespace BgeVectorDb.Server.Hosting;

/// <summary>
/// The server's models: binds the "Inference" and "Models" options to Core's <see cref="ModelRegistry"/>
/// (which resolves, loads, shares one instance per model id and disposes them) and exposes it to the
/// services, the catalog and the metrics.
/// </summary>
internal sealed class ModelHost : IModelProvider, IDisposable
{
    private readonly ModelRegistry _registry;

    public ModelHost(IOptions<InferenceOptions> options, IOptions<ModelOptions> modelOptions, ILoggerFactory loggerFactory)
    {
        var o = options.Value;
        _registry = new ModelRegistry(new ModelRegistryOptions
        {
            DefaultEmbeddingModel = o.EmbeddingModel,
            DefaultRerankerModel = o.RerankerModel,
            Runtime = new OnnxRuntimeOptions
            {
                ExecutionProvider = ExecutionProviderPreferences.Parse(o.ExecutionProvider),
                IntraOpThreads = o.IntraOpThreads,
                CudaDeviceId = o.CudaDeviceId,
            },
            EmbedderOptions = id =>
            {
                var settings = o.For(id);
                var pooling = settings.Pooling ?? o.Pooling;
                return new BgeEmbedderOptions
                {
                    MaxLength = settings.MaxSequenceLength ?? o.MaxSequenceLength,
                    Pooling = pooling is null ? null : PoolingModes.Parse(pooling),
                    Normalize = settings.Normalize,
                    QueryInstruction = settings.QueryPrompt,
                    DocumentInstruction = settings.DocumentPrompt,
                    Batching = o.ToBatcherOptions(),
                };
            },
            RerankerOptions = id => new CrossEncoderOptions
            {
                MaxLength = o.For(id).MaxSequenceLength ?? o.MaxSequenceLength,
                ApplySigmoid = o.RerankerSigmoid,
                Batching = o.ToBatcherOptions(),
            },
        }, new ModelResolver(modelOptions, loggerFactory.CreateLogger<ModelResolver>()), loggerFactory);
    }

    public string DefaultEmbeddingModel => _registry.DefaultEmbeddingModel;

    public string DefaultRerankerModel => _registry.DefaultRerankerModel;

    /// <summary>The provider in use and why (available after <see cref="LoadDefaultsAsync"/>).</summary>
    public ExecutionProviderInfo Provider => _registry.Provider;

    public IReadOnlyList<LoadedModel> Loaded => _registry.Loaded;

    /// <summary>Chooses the execution provider and loads the default models. Throws
    /// ModelUnavailableException / ExecutionProviderUnavailableException for the server to report.</summary>
    public Task LoadDefaultsAsync(CancellationToken cancellationToken) => _registry.LoadDefaultsAsync(cancellationToken);

    public ITextEmbedder GetEmbedder(string modelId) => _registry.GetEmbedder(modelId);

    /// <summary>The embedder of <paramref name="modelId"/> (loaded on first use); errors name <paramref name="field"/>.</summary>
    public ITextEmbedder GetEmbedder(string modelId, string field) => _registry.GetEmbedder(modelId, field);

    public IReranker GetReranker(string modelId) => _registry.GetReranker(modelId);

    public void Dispose() => _registry.Dispose();
}
