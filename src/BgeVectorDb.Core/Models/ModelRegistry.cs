using BgeVectorDb.Common.Errors;
using BgeVectorDb.Common.Models;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Reranking;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Models;

/// <summary>A model the registry has loaded (what the server's info RPC reports).</summary>
/// <param name="Role">"embedding" or "reranker".</param>
/// <param name="Synthetic">The folder carries the synthesiser's marker (<see cref="SyntheticModelMarker"/>).</param>
public sealed record LoadedModel(string Role, string Id, string Path, string Family, int Dimension, int MaxLength, bool Synthetic,
    EmbeddingProfile? Profile);

/// <summary>How a <see cref="ModelRegistry"/> runs its models.</summary>
public sealed class ModelRegistryOptions
{
    /// <summary>Embedding model of collections that name none; "none" = vectors only.</summary>
    public string DefaultEmbeddingModel { get; init; } = "BAAI/bge-small-en-v1.5";

    /// <summary>Reranker of collections that name none; "none" = no reranking.</summary>
    public string DefaultRerankerModel { get; init; } = "BAAI/bge-reranker-base";

    /// <summary>ONNX Runtime settings (execution provider, threads) of every session.</summary>
    public OnnxRuntimeOptions Runtime { get; init; } = new();

    /// <summary>Load options of the embedding model with the given id.</summary>
    public Func<string, BgeEmbedderOptions> EmbedderOptions { get; init; } = _ => new BgeEmbedderOptions();

    /// <summary>Load options of the reranker with the given id.</summary>
    public Func<string, CrossEncoderOptions> RerankerOptions { get; init; } = _ => new CrossEncoderOptions();
}

/// <summary>
/// Owns the engine's models: chooses the execution provider once (<see cref="LoadDefaultsAsync"/>), resolves each
/// model id through a <see cref="ModelResolver"/> (configured folder, cache, hub), loads it on first use and shares
/// one loaded instance per id (case-insensitive) with every collection; disposes them all.
/// </summary>
public sealed partial class ModelRegistry : IModelProvider, IDisposable
{
    private readonly ModelRegistryOptions _options;
    private readonly ModelResolver _resolver;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly Dictionary<string, BgeEmbedder> _embedders = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, CrossEncoderReranker> _rerankers = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<LoadedModel> _loaded = [];
    private OnnxSessionFactory? _factory;

    /// <summary>Creates a registry; nothing is loaded until <see cref="LoadDefaultsAsync"/>.</summary>
    /// <param name="options">Defaults and load options.</param>
    /// <param name="resolver">Finds model folders; owned (disposed) by the registry.</param>
    /// <param name="loggerFactory">Logs of the registry, the session factory and the models.</param>
    public ModelRegistry(ModelRegistryOptions options, ModelResolver resolver, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(resolver);
        _options = options;
        _resolver = resolver;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<ModelRegistry>();
    }

    /// <inheritdoc />
    public string DefaultEmbeddingModel => _options.DefaultEmbeddingModel;

    /// <inheritdoc />
    public string DefaultRerankerModel => _options.DefaultRerankerModel;

    /// <summary>The provider in use and why (available after <see cref="LoadDefaultsAsync"/>).</summary>
    public ExecutionProviderInfo Provider => Factory.ExecutionProvider;

    /// <summary>Every model loaded so far, in load order.</summary>
    public IReadOnlyList<LoadedModel> Loaded
    {
        get
        {
            lock (_sync) return _loaded.ToArray();
        }
    }

    private OnnxSessionFactory Factory => _factory ?? throw new InvalidOperationException("models are not loaded yet");

    /// <summary>Chooses the execution provider and loads the default models. Throws
    /// <see cref="ModelUnavailableException"/> / <see cref="ExecutionProviderUnavailableException"/>.</summary>
    public async Task LoadDefaultsAsync(CancellationToken cancellationToken)
    {
        _factory = new OnnxSessionFactory(_options.Runtime, _loggerFactory.CreateLogger<OnnxSessionFactory>());
        LogProvider(Provider.Provider, Provider.Reason);
        if (!IsNone(_options.DefaultEmbeddingModel)) await LoadEmbedderAsync(_options.DefaultEmbeddingModel, cancellationToken).ConfigureAwait(false);
        if (!IsNone(_options.DefaultRerankerModel)) await LoadRerankerAsync(_options.DefaultRerankerModel, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ITextEmbedder GetEmbedder(string modelId) => Get(modelId, "config.embedding_model", _embedders, LoadEmbedderAsync);

    /// <summary>The embedder of <paramref name="modelId"/> (loaded on first use); errors name <paramref name="field"/>.</summary>
    public ITextEmbedder GetEmbedder(string modelId, string field) => Get(modelId, field, _embedders, LoadEmbedderAsync);

    /// <inheritdoc />
    public IReranker GetReranker(string modelId) => Get(modelId, "config.reranker_model", _rerankers, LoadRerankerAsync);

    private T Get<T>(string modelId, string field, Dictionary<string, T> loaded, Func<string, CancellationToken, Task<T>> load)
        where T : class
    {
        lock (_sync)
        {
            if (loaded.TryGetValue(modelId, out var model)) return model;
        }
        try
        {
            // A collection naming a model not loaded yet: resolve and load it now (folder, cache, hub).
            // Rare (collection create/open), so blocking here is acceptable.
            return load(modelId, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is ModelUnavailableException or ArgumentException or InvalidDataException or FileNotFoundException)
        {
            throw new EngineException(EngineErrorKind.InvalidArgument, $"{field}: {ex.Message}", field, ex);
        }
    }

    private async Task<BgeEmbedder> LoadEmbedderAsync(string modelId, CancellationToken cancellationToken)
    {
        var resolved = await _resolver.ResolveAsync(modelId, null, cancellationToken).ConfigureAwait(false);
        lock (_sync)
        {
            if (_embedders.TryGetValue(modelId, out var existing)) return existing;
            var embedder = BgeEmbedder.Load(resolved.Directory, modelId, Factory, _options.EmbedderOptions(modelId),
                _loggerFactory.CreateLogger<BgeEmbedder>());
            _embedders[modelId] = embedder;
            Register("embedding", modelId, resolved, embedder.Dimension, embedder.MaxLength, embedder.Profile);
            return embedder;
        }
    }

    private async Task<CrossEncoderReranker> LoadRerankerAsync(string modelId, CancellationToken cancellationToken)
    {
        var resolved = await _resolver.ResolveAsync(modelId, null, cancellationToken).ConfigureAwait(false);
        lock (_sync)
        {
            if (_rerankers.TryGetValue(modelId, out var existing)) return existing;
            var reranker = CrossEncoderReranker.Load(resolved.Directory, modelId, Factory, _options.RerankerOptions(modelId),
                _loggerFactory.CreateLogger<CrossEncoderReranker>());
            _rerankers[modelId] = reranker;
            Register("reranker", modelId, resolved, 0, reranker.MaxLength, null);
            return reranker;
        }
    }

    private void Register(string role, string modelId, ResolvedModel resolved, int dimension, int maxLength, EmbeddingProfile? profile)
    {
        var synthetic = SyntheticModelMarker.IsSynthetic(resolved.Directory);
        _loaded.Add(new LoadedModel(role, modelId, resolved.Directory, resolved.Family, dimension, maxLength, synthetic, profile));
        LogLoaded(role, modelId, resolved.Directory, resolved.Source.ToString(), maxLength,
            profile is null ? "" : $", pooling {PoolingModes.Name(profile.Pooling)}, normalize {profile.Normalize}, query prompt \"{profile.QueryPrompt}\", document prompt \"{profile.DocumentPrompt}\"");
        if (synthetic) LogSynthetic(modelId);
    }

    private static bool IsNone(string id) => string.Equals(id, "none", StringComparison.OrdinalIgnoreCase);

    /// <summary>Disposes every loaded model and the resolver.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            foreach (var e in _embedders.Values) e.Dispose();
            foreach (var r in _rerankers.Values) r.Dispose();
        }
        _resolver.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Inference runs on {Provider}: {Reason}")]
    private partial void LogProvider(string provider, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Role} model {ModelId} from {Path} ({Source}): max length {MaxLength}{Usage}")]
    private partial void LogLoaded(string role, string modelId, string path, string source, int maxLength, string usage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {ModelId} has SYNTHETIC random weights: results are not semantic (testing only)")]
    private partial void LogSynthetic(string modelId);
}
