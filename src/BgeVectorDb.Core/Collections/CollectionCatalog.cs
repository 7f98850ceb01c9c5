using System.Text.Json;
using System.Text.RegularExpressions;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Storage;
using Microsoft.Extensions.Logging;

namespace BgeVectorDb.Core.Collections;

/// <summary>
/// All collections of one data folder. The catalog file (<c>catalog.json</c>) lists them durably; each
/// collection keeps its own files under <c>collections/NAME/</c> (WAL, store, checkpoints: Storage's
/// <see cref="CollectionLayout"/>), opened by <see cref="CollectionRecovery"/>.
/// With <c>dataDirectory</c> null everything stays in memory (tests, benchmarks).
/// </summary>
public sealed partial class CollectionCatalog : IAsyncDisposable
{
    private const string Magic = "BGEVDB-CATALOG";
    private const int FormatVersion = 1;

    /// <summary>Folder-name prefix of a deleted collection's files awaiting removal (never a valid collection name).</summary>
    public const string TombstonePrefix = ".deleted-";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private readonly string? _dataDirectory;
    private readonly IModelProvider _models;
    private readonly EngineLimits _limits;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly Dictionary<string, Collection> _collections = new(StringComparer.Ordinal);

    // Names whose delete (or restore) is still running, with a task that completes when it is done (guarded by _sync).
    private readonly Dictionary<string, Task> _pending = new(StringComparer.Ordinal);

    private CollectionCatalog(string? dataDirectory, IModelProvider models, EngineLimits limits, ILogger logger)
    {
        _dataDirectory = dataDirectory;
        _models = models;
        _limits = limits;
        _logger = logger;
    }

    public EngineLimits Limits => _limits;

    /// <summary>Opens the catalog in <paramref name="dataDirectory"/> (created when missing) and recovers
    /// every collection from its log.</summary>
    public static CollectionCatalog Open(string? dataDirectory, IModelProvider models, EngineLimits limits, ILogger logger, StorageOptions? storage = null)
    {
        var catalog = new CollectionCatalog(dataDirectory, models, limits, logger) { _storage = storage ?? new StorageOptions() };
        if (dataDirectory is not null)
        {
            Directory.CreateDirectory(dataDirectory);
            catalog.Recover();
        }
        catalog.StartCheckpointLoop(storage ?? new StorageOptions());
        return catalog;
    }

    /// <summary>Creates a collection. When a delete of the same name is still running, waits for it to finish
    /// first: the new collection never shares files with the dying one.</summary>
    public Collection Create(CollectionSpec spec)
    {
        while (true)
        {
            var (collection, pending) = TryCreate(spec);
            if (collection is not null) return collection;
            pending!.GetAwaiter().GetResult();
        }
    }

    /// <inheritdoc cref="Create"/>
    public async Task<Collection> CreateAsync(CollectionSpec spec, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var (collection, pending) = TryCreate(spec);
            if (collection is not null) return collection;
            await pending!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private (Collection? Created, Task? Pending) TryCreate(CollectionSpec spec)
    {
        ThrowIfClosing();
        ValidateName(spec.Name, "name");
        var config = ResolveConfig(spec);
        lock (_sync)
        {
            if (_pending.TryGetValue(spec.Name, out var pending)) return (null, pending);
            if (_collections.ContainsKey(spec.Name) || _failed.ContainsKey(spec.Name))
            {
                throw new EngineException(EngineErrorKind.AlreadyExists, $"collection '{spec.Name}' already exists");
            }
            var created = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Collection? collection = null;
            try
            {
                collection = OpenCollection(spec.Name, config, created, fresh: true);
                _collections.Add(spec.Name, collection);
                SaveCatalog();
            }
            catch (Exception ex)
            {
                // Nothing of a failed create stays: not in the catalog, no open store, no folder. A full disk is
                // RESOURCE_EXHAUSTED naming the volume (judged before the new folder is removed).
                var full = _dataDirectory is null ? null : DiskSpace.FullError(ex, _dataDirectory, $"creating collection '{spec.Name}'");
                _collections.Remove(spec.Name);
                collection?.DisposeAsync().AsTask().GetAwaiter().GetResult();
                if (_dataDirectory is not null && Directory.Exists(CollectionDirectory(spec.Name))) RemoveTombstone(CollectionDirectory(spec.Name));
                if (full is not null) throw full;
                throw;
            }
            LogCreated(spec.Name, config.EmbeddingModel, config.Dimension);
            return (collection, null);
        }
    }

    public Collection Get(string name)
    {
        lock (_sync)
        {
            if (_collections.TryGetValue(name, out var c)) return c;
        }
        ThrowIfClosing();
        if (string.IsNullOrEmpty(name)) EngineException.ThrowInvalid("collection", "must not be empty");
        ThrowIfFailed(name);
        EngineException.ThrowCollectionNotFound(name);
        return null;
    }

    public IReadOnlyList<Collection> List()
    {
        lock (_sync)
        {
            return _collections.Values.OrderBy(c => c.Name, StringComparer.Ordinal).ToArray();
        }
    }

    /// <summary>Deletes a collection and its files. The name stays reserved until the collection is closed and
    /// its folder renamed to a tombstone (a create of the same name waits for that); the tombstone is then
    /// removed (or, after a crash, at the next start).</summary>
    public async Task DeleteAsync(string name)
    {
        ThrowIfClosing();
        Collection? collection = null;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        while (true)
        {
            Task? running;
            lock (_sync)
            {
                if (!_pending.TryGetValue(name, out running))
                {
                    (CatalogEntry Entry, string Reason, bool Corrupt) failed = default;
                    if (!_collections.Remove(name, out collection) && !_failed.Remove(name, out failed)) EngineException.ThrowCollectionNotFound(name);
                    try
                    {
                        SaveCatalog();
                    }
                    catch
                    {
                        if (collection is not null) _collections[name] = collection;
                        else _failed[name] = failed;
                        throw;
                    }
                    _pending[name] = done.Task;
                    break;
                }
            }
            await running.ConfigureAwait(false);   // another delete (or restore) of this name: then decide
        }
        string? tombstone = null;
        try
        {
            if (collection is not null) await collection.DisposeAsync().ConfigureAwait(false);
            if (_dataDirectory is not null) tombstone = MoveToTombstone(name);
        }
        finally
        {
            lock (_sync) _pending.Remove(name);
            done.SetResult();
        }
        if (tombstone is not null) RemoveTombstone(tombstone);
        LogDeleted(name);
    }

    /// <summary>Renames a collection's folder out of the way (same parent, so the rename is atomic); null when there is none.</summary>
    private string? MoveToTombstone(string name)
    {
        var dir = CollectionDirectory(name);
        if (!Directory.Exists(dir)) return null;
        var tombstone = Path.Combine(CollectionsRoot, $"{TombstonePrefix}{name}-{Guid.NewGuid():N}");
        Directory.Move(dir, tombstone);
        return tombstone;
    }

    private void RemoveTombstone(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogTombstoneLeft(path, ex.Message);
        }
    }

    /// <summary>At start: removes what deletes and restores interrupted by a crash left behind.</summary>
    private void RemoveLeftovers()
    {
        if (!Directory.Exists(CollectionsRoot)) return;
        foreach (var dir in Directory.GetDirectories(CollectionsRoot))
        {
            var folder = Path.GetFileName(dir);
            if (folder.StartsWith(TombstonePrefix, StringComparison.Ordinal) || folder.EndsWith(RestoringSuffix, StringComparison.Ordinal))
            {
                RemoveTombstone(dir);
            }
        }
    }

    private volatile bool _closing;

    /// <summary>After shutdown began, calls are told to retry elsewhere or later (UNAVAILABLE), not NOT_FOUND.</summary>
    private void ThrowIfClosing()
    {
        if (_closing) throw new EngineException(EngineErrorKind.Unavailable, "the server is shutting down; this request was not applied");
    }

    public ValueTask DisposeAsync() => CloseAsync(CancellationToken.None);

    /// <summary>Closes the catalog (graceful shutdown): checkpoints every collection (Storage:CheckpointOnShutdown)
    /// until <paramref name="checkpointDeadline"/>, abandoning those not finished then (a warning names each; their
    /// WAL holds every acked write), then closes every WAL and store.</summary>
    public async ValueTask CloseAsync(CancellationToken checkpointDeadline)
    {
        _closing = true;
        var stuck = await CloseStorageAsync(checkpointDeadline).ConfigureAwait(false);
        Collection[] all;
        lock (_sync)
        {
            all = _collections.Values.ToArray();
            _collections.Clear();
        }
        foreach (var c in all)
        {
            // Closing waits for a checkpoint in progress: one that ignored the deadline is left to the process exit.
            if (stuck.Contains(c.Name)) LogNotClosed(c.Name);
            else await c.DisposeAsync(shuttingDown: true).ConfigureAwait(false);
        }
    }

    private CollectionConfig ResolveConfig(CollectionSpec spec)
    {
        var embeddingModel = string.IsNullOrEmpty(spec.EmbeddingModel) ? _models.DefaultEmbeddingModel : spec.EmbeddingModel;
        var hasEmbedder = !string.Equals(embeddingModel, CollectionConfig.None, StringComparison.OrdinalIgnoreCase);
        int dimension;
        var instruction = spec.QueryInstruction ?? "";
        if (hasEmbedder)
        {
            var embedder = _models.GetEmbedder(embeddingModel);
            if (spec.Dimension != 0 && spec.Dimension != embedder.Dimension)
            {
                EngineException.ThrowInvalid("config.dimension", $"model '{embeddingModel}' produces {embedder.Dimension}-dimensional vectors, got {spec.Dimension}");
            }
            dimension = embedder.Dimension;
            instruction = spec.QueryInstruction ?? embedder.DefaultQueryInstruction;
        }
        else
        {
            if (spec.Dimension < 1 || spec.Dimension > _limits.MaxDimension)
            {
                EngineException.ThrowInvalid("config.dimension", $"must be between 1 and {EngineLimits.Cite("max_dimension", _limits.MaxDimension, nameof(EngineLimits.MaxDimension))} when embedding_model is 'none', got {spec.Dimension}");
            }
            dimension = spec.Dimension;
            embeddingModel = CollectionConfig.None;
        }
        var rerankerModel = string.IsNullOrEmpty(spec.RerankerModel) ? _models.DefaultRerankerModel : spec.RerankerModel;
        if (!string.Equals(rerankerModel, CollectionConfig.None, StringComparison.OrdinalIgnoreCase))
        {
            _models.GetReranker(rerankerModel);
        }
        else
        {
            rerankerModel = CollectionConfig.None;
        }
        var hnsw = spec.Hnsw ?? HnswParameters.Default;
        var d = HnswParameters.Default;
        hnsw = new HnswParameters(hnsw.M == 0 ? d.M : hnsw.M, hnsw.EfConstruction == 0 ? d.EfConstruction : hnsw.EfConstruction, hnsw.EfSearch == 0 ? d.EfSearch : hnsw.EfSearch);
        if (hnsw.M is < 2 or > 128) EngineException.ThrowInvalid("config.hnsw.m", $"must be between 2 and 128, got {hnsw.M}");
        if (hnsw.EfConstruction is < 1 or > 4096) EngineException.ThrowInvalid("config.hnsw.ef_construction", $"must be between 1 and 4096, got {hnsw.EfConstruction}");
        if (hnsw.EfSearch < 1 || hnsw.EfSearch > _limits.MaxEf)
        {
            EngineException.ThrowInvalid("config.hnsw.ef_search", $"must be between 1 and {EngineLimits.Cite("max_ef", _limits.MaxEf, nameof(EngineLimits.MaxEf))}, got {hnsw.EfSearch}");
        }
        return new CollectionConfig(embeddingModel, dimension, spec.Distance ?? DistanceKind.Cosine, hnsw, rerankerModel, instruction);
    }

    private Collection OpenCollection(string name, CollectionConfig config, long createdAtMs, bool fresh)
    {
        var collection = _dataDirectory is not null
            ? RecoverDurable(name, config, createdAtMs, fresh)
            : new Collection(name, config, createdAtMs,
                config.HasEmbedder ? _models.GetEmbedder(config.EmbeddingModel) : null,
                config.HasReranker ? _models.GetReranker(config.RerankerModel) : null,
                _limits, wal: null);
        collection.RecallSampler = _recallSampler;
        return collection;
    }

    private const string RestoringSuffix = ".restoring";

    private string CollectionsRoot => Path.Combine(_dataDirectory!, "collections");

    private string CollectionDirectory(string name) => Path.Combine(CollectionsRoot, name);

    private string CatalogPath => Path.Combine(_dataDirectory!, "catalog.json");

    private void SaveCatalog()
    {
        if (_dataDirectory is null) return;
        var entries = _collections.Values.Select(c => new CatalogEntry(c.Name, c.CreatedAtMs, c.Config))
            .Concat(_failed.Values.Select(f => f.Entry))
            .OrderBy(e => e.Name, StringComparer.Ordinal).ToArray();
        AtomicFile.Write(CatalogPath, Magic, FormatVersion, JsonSerializer.Serialize(entries, Json));
    }

    private void Recover()
    {
        RemoveLeftovers();
        if (!File.Exists(CatalogPath)) return;
        var entries = JsonSerializer.Deserialize<CatalogEntry[]>(AtomicFile.Read(CatalogPath, Magic, FormatVersion), Json)
            ?? throw new InvalidDataException($"{CatalogPath}: empty catalog");
        foreach (var e in entries)
        {
            try
            {
                _collections[e.Name] = OpenCollection(e.Name, e.Config, e.CreatedAtMs, fresh: false);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or FASTER.core.FasterException)
            {
                // Refuse this collection (its files stay as they are); the others and the server go on.
                // Damaged data (checksums, FASTER's own checks) is data loss; an I/O error reading it is not.
                _failed[e.Name] = (e, ex.Message, ex is InvalidDataException or FASTER.core.FasterException);
                LogRefused(e.Name, ex.Message);
            }
        }
    }

    /// <summary>1..64 characters of [A-Za-z0-9_-], starting with a letter or digit (safe as a folder name).</summary>
    public static void ValidateName(string name, string field)
    {
        if (string.IsNullOrEmpty(name)) EngineException.ThrowInvalid(field, "must not be empty");
        if (!NamePattern().IsMatch(name))
        {
            EngineException.ThrowInvalid(field, $"'{name}' is not a valid collection name: use 1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit");
        }
    }

    // \z, not $: in .NET '$' also matches before a final "\n", which let "name\n" through.
    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9_-]{0,63}\z")]
    private static partial Regex NamePattern();

    private sealed record CatalogEntry(string Name, long CreatedAtMs, CollectionConfig Config);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created collection {Name} (model {Model}, dimension {Dimension})")]
    private partial void LogCreated(string name, string model, int dimension);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove {Path} (files of a deleted collection); the next start retries: {Reason}")]
    private partial void LogTombstoneLeft(string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted collection {Name}")]
    private partial void LogDeleted(string name);
}
