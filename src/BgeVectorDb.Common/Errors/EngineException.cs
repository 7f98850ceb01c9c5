using System.Diagnostics.CodeAnalysis;

namespace BgeVectorDb.Common.Errors;

/// <summary>What went wrong, as the transport needs to know it. One mapper in the server turns each
/// kind into a gRPC status code.</summary>
public enum EngineErrorKind
{
    /// <summary>The request is malformed or breaks a limit; <see cref="EngineException.Field"/> names the field.</summary>
    InvalidArgument,
    /// <summary>A named collection or document does not exist.</summary>
    NotFound,
    /// <summary>Creating something that already exists.</summary>
    AlreadyExists,
    /// <summary>A queue or quota is full; the client may retry later.</summary>
    ResourceExhausted,
    /// <summary>The operation is valid but the target is not in a state that allows it
    /// (e.g. a text query on a collection without an embedding model).</summary>
    FailedPrecondition,
    /// <summary>The engine cannot serve now (recovering, shutting down).</summary>
    Unavailable,
    /// <summary>A bug or an I/O failure; never the client's fault.</summary>
    Internal,
    /// <summary>Stored data is damaged beyond recovery (e.g. a collection whose checkpoints and WAL cannot rebuild
    /// it): retrying will not help; restore a snapshot or delete the collection.</summary>
    DataLoss,
}

/// <summary>An error the engine reports to its callers. Messages are written for the client: they name
/// the field or object at fault and what was expected.</summary>
public sealed class EngineException : Exception
{
    public EngineException(EngineErrorKind kind, string message, string? field = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Field = field;
    }

    public EngineErrorKind Kind { get; }

    /// <summary>Request field path at fault (e.g. "documents[3].text"), for InvalidArgument.</summary>
    public string? Field { get; }

    [DoesNotReturn]
    public static void ThrowInvalid(string field, string message) =>
        throw new EngineException(EngineErrorKind.InvalidArgument, $"{field}: {message}", field);

    [DoesNotReturn]
    public static void ThrowCollectionNotFound(string name) =>
        throw new EngineException(EngineErrorKind.NotFound, $"collection '{name}' does not exist");
}
