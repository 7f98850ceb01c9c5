namespace BgeVectorDb.Common.Models;

/// <summary>
/// No source could supply a model. The message names every source tried (configured folder, cache, hub)
/// with the paths and the reason, and every way to supply the model.
/// </summary>
public sealed class ModelUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelUnavailableException(string modelId, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ModelId = modelId;
    }

    /// <summary>The model asked for.</summary>
    public string ModelId { get; }
}

/// <summary>Why a hub request or download failed.</summary>
public enum HubFailure
{
    /// <summary>Connection refused, DNS failure, connect timeout, connection lost and not resumable.</summary>
    Unreachable,

    /// <summary>No response or no data within <see cref="ModelOptions.DownloadTimeout"/>.</summary>
    Timeout,

    /// <summary>HTTP 404: unknown model, revision or file.</summary>
    NotFound,

    /// <summary>HTTP 401/403: gated or private model, token missing or refused.</summary>
    Unauthorized,

    /// <summary>Downloaded bytes do not match the listed size or hash.</summary>
    Integrity,

    /// <summary>Unexpected status or malformed response.</summary>
    Protocol,

    /// <summary>Another process holds the download lock of this cache folder.</summary>
    Busy,
}

/// <summary>A hub listing or download failed; <see cref="Failure"/> says how.</summary>
public sealed class ModelDownloadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelDownloadException(HubFailure failure, string message, int? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
        StatusCode = statusCode;
    }

    /// <summary>Kind of failure.</summary>
    public HubFailure Failure { get; }

    /// <summary>HTTP status, when the hub answered.</summary>
    public int? StatusCode { get; }
}
