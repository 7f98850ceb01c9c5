using System.ComponentModel.DataAnnotations;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Batching;

namespace BgeVectorDb.Server.Hosting;

/// <summary>Section "Server".</summary>
public sealed class ServerOptions
{
    public const string Section = "Server";

    /// <summary>Address to listen on (HTTP/2 without TLS). Default http://127.0.0.1:50051; port 0 picks a free port
    /// (the chosen address is logged as "BgeVectorDb listening on ...").</summary>
    [Required]
    public string Listen { get; set; } = "http://127.0.0.1:50051";

    /// <summary>Folder for the catalog and every collection's files. Default ./data.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>Largest gRPC message accepted, in bytes. Default 64 MiB.</summary>
    [Range(1024, int.MaxValue)]
    public int MaxReceiveMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Graceful shutdown budget, in seconds (default 30): in-flight calls get all of it but a reserve (a quarter,
    /// at most 5 s) for closing the catalog; calls still running then end with UNAVAILABLE (see ShutdownDrain).</summary>
    [Range(0, 3600)]
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    /// <summary>TLS certificate; none = plaintext HTTP/2.</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>A certificate with an http:// address used to be ignored silently (the server ran in plaintext), and
    /// https:// without one fails deep in Kestrel: both are refused at start with this message.</summary>
    internal string? TlsContradiction()
    {
        var https = Listen.TrimStart().StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        if (Tls.CertificatePath is not null && !https)
        {
            return $"Server:Tls:CertificatePath is set but Server:Listen '{Listen}' is plaintext: use an https:// address to serve TLS, or remove the certificate";
        }
        if (Tls.CertificatePath is null && https)
        {
            return $"Server:Listen '{Listen}' needs a certificate: set Server:Tls:CertificatePath (and KeyPath for PEM), or use http://";
        }
        return null;
    }
}

/// <summary>Section "Inference": which models the server serves and how it runs them.</summary>
public sealed class InferenceOptions
{
    public const string Section = "Inference";

    /// <summary>Default embedding model id. Default BAAI/bge-small-en-v1.5; "none" = vectors only.</summary>
    [Required]
    public string EmbeddingModel { get; set; } = "BAAI/bge-small-en-v1.5";

    /// <summary>Default reranker id. Default BAAI/bge-reranker-base; "none" = no reranking.</summary>
    [Required]
    public string RerankerModel { get; set; } = "BAAI/bge-reranker-base";

    /// <summary>auto (CUDA when the runtime has it, else CPU), cpu or cuda, case-insensitive. Default auto. Any other
    /// value refuses the start naming the key and the allowed values (see ConfigurationChecks).</summary>
    public ExecutionProviderPreference ExecutionProvider { get; set; } = ExecutionProviderPreference.Auto;

    /// <summary>CUDA device id. Default 0.</summary>
    [Range(0, 64)]
    public int CudaDeviceId { get; set; }

    /// <summary>Threads per ONNX Runtime session (intra-op). 0 = all cores. Default 0.</summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    /// <summary>Padded tokens per inference batch. Default 16,384.</summary>
    [Range(512, 1 << 22)]
    public int MaxBatchTokens { get; set; } = InferenceBatcherOptions.DefaultMaxBatchTokens;

    /// <summary>Rows per inference batch. Default 256.</summary>
    [Range(1, 65536)]
    public int MaxBatchRows { get; set; } = InferenceBatcherOptions.DefaultMaxBatchRows;

    /// <summary>Bound of each model's inference queue in waiting tokens; past it requests fail with
    /// RESOURCE_EXHAUSTED. Default 4,194,304.</summary>
    [Range(1, long.MaxValue)]
    public long MaxQueuedTokens { get; set; } = InferenceBatcherOptions.DefaultMaxQueuedTokens;

    /// <summary>Starvation protection: a lower-priority lane (rerank, ingest) passed over for this many consecutive
    /// batches runs next. Default 4.</summary>
    [Range(1, 1_000_000)]
    public int StarvationLimit { get; set; } = InferenceBatcherOptions.DefaultStarvationLimit;

    /// <summary>Target duration of an ingest batch (its token budget follows the model's measured throughput); bounds
    /// how long a query waits behind ingest. Default 250 ms; 0 = ingest batches use MaxBatchTokens.</summary>
    [Range(0, 3_600_000)]
    public int IngestBatchMilliseconds { get; set; } = InferenceBatcherOptions.DefaultIngestBatchMilliseconds;

    /// <summary>Longest input in tokens (texts are truncated), for every model. Default: unset = each model's own
    /// limit (tokenizer_config.json model_max_length, capped by config.json max_position_embeddings; 512 when the
    /// folder says neither). A value set here is still capped by each model's limit.</summary>
    [Range(8, 8192)]
    public int? MaxSequenceLength { get; set; }

    /// <summary>Pooling of every embedding model: cls, mean or lasttoken. Default: unset = each model folder's
    /// (sentence-transformers modules.json + 1_Pooling/config.json; CLS without them).</summary>
    [RegularExpression("(?i)^(cls|mean|lasttoken|last_token)$", ErrorMessage = "Inference:Pooling must be cls, mean or lasttoken")]
    public string? Pooling { get; set; }

    /// <summary>Per-model settings keyed by model id (e.g. "Inference:Models:Snowflake/snowflake-arctic-embed-xs:QueryPrompt");
    /// each set value wins over the global one and over what the model folder says.</summary>
    public Dictionary<string, ModelSettings> Models { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Apply a sigmoid to reranker logits (scores in 0..1). Default false (raw logits).</summary>
    public bool RerankerSigmoid { get; set; }

    /// <summary>The settings of <paramref name="modelId"/>: its entry in <see cref="Models"/>, else none.</summary>
    internal ModelSettings For(string modelId) => Models.TryGetValue(modelId, out var s) ? s : new ModelSettings();

    /// <summary>The scheduler settings of every model the server loads.</summary>
    internal InferenceBatcherOptions ToBatcherOptions() => new()
    {
        MaxBatchTokens = MaxBatchTokens,
        MaxBatchRows = MaxBatchRows,
        MaxQueuedTokens = MaxQueuedTokens,
        StarvationLimit = StarvationLimit,
        IngestBatchMilliseconds = IngestBatchMilliseconds,
    };
}

/// <summary>One entry of "Inference:Models": overrides for one model; unset values keep the model folder's.</summary>
public sealed class ModelSettings
{
    /// <summary>cls, mean or lasttoken (embedding models).</summary>
    public string? Pooling { get; set; }

    /// <summary>L2-normalise pooled vectors (embedding models).</summary>
    public bool? Normalize { get; set; }

    /// <summary>Prompt prepended to queries ("" = none); default: the folder's config_sentence_transformers.json,
    /// else the BGE preset for BGE ids, else none.</summary>
    public string? QueryPrompt { get; set; }

    /// <summary>Prompt prepended to documents ("" = none); default: the folder's, else none.</summary>
    public string? DocumentPrompt { get; set; }

    /// <summary>Longest input in tokens for this model (still capped by the model's own limit).</summary>
    public int? MaxSequenceLength { get; set; }
}
