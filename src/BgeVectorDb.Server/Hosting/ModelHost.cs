using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Errors;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Batching;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Reranking;
using Microsoft.Extensions.Options;

namespace BgeVectorDb.Server.Hosting;

/// <summary>A model the server has loaded, as reported by the info RPC.</summary>
internal sealed record LoadedModel(string Role, string Id, string Path, string Family, int Dimension, int MaxLength, bool Synthetic,
    EmbeddingProfile? Profile);

/// <summary>
/// Owns inference for the server: chooses the execution provider once, resolves and loads the configured
/// default models at start (failing fast, naming every way to supply a missing one), and loads other
/// models on first use by a collection. One loaded instance per model id, shared by every collection.
/// </summary>
internal sealed partial class ModelHost : IModelProvider, IDisposable
{
    private readonly InferenceOptions _options;
    private readonly ModelResolver _resolver;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly Dictionary<string, BgeEmbedder> _embedders = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, CrossEncoderReranker> _rerankers = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<LoadedModel> _loaded = [];
    private OnnxSessionFactory? _factory;

    public ModelHost(IOptions<InferenceOptions> options, IOptions<ModelOptions> modelOptions, ILoggerFactory loggerFactory)
    {
        _options = options.Value;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ModelHost>();
        _resolver = new ModelResolver(modelOptions, loggerFactory.CreateLogger<ModelResolver>());
    }

    public string DefaultEmbeddingModel => _options.EmbeddingModel;

    public string DefaultRerankerModel => _options.RerankerModel;

    /// <summary>The provider in use and why (available after <see cref="LoadDefaultsAsync"/>).</summary>
    public ExecutionProviderInfo Provider => Factory.ExecutionProvider;

    public IReadOnlyList<LoadedModel> Loaded
    {
        get
        {
            lock (_sync) return _loaded.ToArray();
        }
    }

    private OnnxSessionFactory Factory => _factory ?? throw new InvalidOperationException("models are not loaded yet");

    /// <summary>Chooses the execution provider and loads the default models. Throws
    /// ModelUnavailableException / ExecutionProviderUnavailableException for the server to report.</summary>
    public async Task LoadDefaultsAsync(CancellationToken cancellationToken)
    {
        _factory = new OnnxSessionFactory(new OnnxRuntimeOptions
        {
            ExecutionProvider = ExecutionProviderPreferences.Parse(_options.ExecutionProvider),
            IntraOpThreads = _options.IntraOpThreads,
            CudaDeviceId = _options.CudaDeviceId,
        }, _loggerFactory.CreateLogger<OnnxSessionFactory>());
        LogProvider(Provider.Provider, Provider.Reason);
        if (!IsNone(_options.EmbeddingModel)) await LoadEmbedderAsync(_options.EmbeddingModel, cancellationToken).ConfigureAwait(false);
        if (!IsNone(_options.RerankerModel)) await LoadRerankerAsync(_options.RerankerModel, cancellationToken).ConfigureAwait(false);
    }

    public ITextEmbedder GetEmbedder(string modelId) => Get(modelId, "config.embedding_model", _embedders, LoadEmbedderAsync);

    /// <summary>The embedder of <paramref name="modelId"/> (loaded on first use); errors name <paramref name="field"/>.</summary>
    public ITextEmbedder GetEmbedder(string modelId, string field) => Get(modelId, field, _embedders, LoadEmbedderAsync);

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
            // A collection naming a model the server has not loaded yet: resolve and load it now
            // (folder, cache, hub). Rare (collection create/open), so blocking here is acceptable.
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
            var settings = _options.For(modelId);
            var pooling = settings.Pooling ?? _options.Pooling;
            var embedder = BgeEmbedder.Load(resolved.Directory, modelId, Factory, new BgeEmbedderOptions
            {
                MaxLength = settings.MaxSequenceLength ?? _options.MaxSequenceLength,
                Pooling = pooling is null ? null : PoolingModes.Parse(pooling),
                Normalize = settings.Normalize,
                QueryInstruction = settings.QueryPrompt,
                DocumentInstruction = settings.DocumentPrompt,
                Batching = _options.ToBatcherOptions(),
            }, _loggerFactory.CreateLogger<BgeEmbedder>());
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
            var reranker = CrossEncoderReranker.Load(resolved.Directory, modelId, Factory, new CrossEncoderOptions
            {
                MaxLength = _options.For(modelId).MaxSequenceLength ?? _options.MaxSequenceLength,
                ApplySigmoid = _options.RerankerSigmoid,
                Batching = _options.ToBatcherOptions(),
            }, _loggerFactory.CreateLogger<CrossEncoderReranker>());
            _rerankers[modelId] = reranker;
            Register("reranker", modelId, resolved, 0, reranker.MaxLength, null);
            return reranker;
        }
    }

    private void Register(string role, string modelId, ResolvedModel resolved, int dimension, int maxLength, EmbeddingProfile? profile)
    {
        var synthetic = File.ReadAllText(Path.Combine(resolved.Directory, "config.json")).Contains("\"bgevectordb_synthetic\"", StringComparison.Ordinal);
        _loaded.Add(new LoadedModel(role, modelId, resolved.Directory, resolved.Family, dimension, maxLength, synthetic, profile));
        LogLoaded(role, modelId, resolved.Directory, resolved.Source.ToString(), maxLength,
            profile is null ? "" : $", pooling {PoolingModes.Name(profile.Pooling)}, normalize {profile.Normalize}, query prompt \"{profile.QueryPrompt}\", document prompt \"{profile.DocumentPrompt}\"");
        if (synthetic) LogSynthetic(modelId);
    }

    private static bool IsNone(string id) => string.Equals(id, "none", StringComparison.OrdinalIgnoreCase);

    public void Dispose()
    {
        foreach (var e in _embedders.Values) e.Dispose();
        foreach (var r in _rerankers.Values) r.Dispose();
        _resolver.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Inference runs on {Provider}: {Reason}")]
    private partial void LogProvider(string provider, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Role} model {ModelId} from {Path} ({Source}): max length {MaxLength}{Usage}")]
    private partial void LogLoaded(string role, string modelId, string path, string source, int maxLength, string usage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {ModelId} has SYNTHETIC random weights: results are not semantic (testing only)")]
    private partial void LogSynthetic(string modelId);
}
