using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace BgeVectorDb.Server.Hosting;

/// <summary>
/// API-key authentication and role checks for every RPC except grpc.health.v1. Keys are compared as
/// SHA-256 digests with a fixed-time comparison, so neither timing nor length leaks; keys are never logged.
/// No key or an unknown key -> UNAUTHENTICATED; a valid key without the role the method needs -> PERMISSION_DENIED.
/// </summary>
internal sealed partial class ApiKeyInterceptor : Interceptor
{
    private readonly (byte[] Digest, ApiKeyRole Role, string Name)[] _keys;
    private readonly string _header;
    private readonly ILogger<ApiKeyInterceptor> _logger;

    public ApiKeyInterceptor(IOptions<AuthOptions> options, ILogger<ApiKeyInterceptor> logger)
    {
        _header = options.Value.Header.ToLowerInvariant();
        _keys = options.Value.Keys.Select((k, i) => (Digest(k.Key), k.Role, k.Name.Length > 0 ? k.Name : $"key{i}")).ToArray();
        _logger = logger;
    }

    public bool Enabled => _keys.Length > 0;

    /// <summary>The role each method needs. Unknown methods (a newer contract) need Admin.</summary>
    internal static ApiKeyRole? Required(string method)
    {
        if (method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal)) return null;
        if (method.StartsWith("/grpc.reflection.", StringComparison.Ordinal)) return ApiKeyRole.Read;
        var name = method[(method.LastIndexOf('/') + 1)..];
        return name switch
        {
            "GetCollection" or "ListCollections" or "GetCollectionStats" or "GetDocuments" or "Search" or "SearchByVector"
                or "SearchByDocument" or "GetInfo" => ApiKeyRole.Read,
            "CreateCollection" or "DeleteCollection" or "Upsert" or "UpsertStream" or "DeleteDocuments" or "MineHardNegatives" => ApiKeyRole.Write,
            _ => ApiKeyRole.Admin,
        };
    }

    private void Authorize(ServerCallContext context)
    {
        if (!Enabled || Required(context.Method) is not { } required) return;
        var presented = Presented(context.RequestHeaders);
        if (presented is null)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"missing API key: send it in the '{_header}' metadata header"));
        }
        var digest = Digest(presented);
        (byte[] Digest, ApiKeyRole Role, string Name)? match = null;
        foreach (var k in _keys)
        {
            // Compare against every key so the time taken does not say which one matched.
            if (CryptographicOperations.FixedTimeEquals(k.Digest, digest)) match = k;
        }
        if (match is not { } m)
        {
            LogRejected(context.Method, context.Peer);
            throw new RpcException(new Status(StatusCode.Unauthenticated, "invalid API key"));
        }
        if (m.Role < required)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"key '{m.Name}' has role {m.Role}; {context.Method} needs {required}"));
        }
    }

    private string? Presented(Metadata headers)
    {
        foreach (var entry in headers)
        {
            if (entry.IsBinary) continue;
            if (entry.Key == _header && entry.Value.Length > 0) return entry.Value;
            if (entry.Key == "authorization" && entry.Value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return entry.Value[7..].Trim();
        }
        return null;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, responseStream, context);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected a call to {Method} from {Peer}: invalid API key")]
    private partial void LogRejected(string method, string peer);
}

/// <summary>Validates Auth at start: keys long enough and distinct.</summary>
internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Header)) failures.Add("Auth:Header must not be empty");
        for (var i = 0; i < options.Keys.Count; i++)
        {
            if (options.Keys[i].Key.Length < 16) failures.Add($"Auth:Keys:{i}:Key must be at least 16 characters");
            if (!Enum.IsDefined(options.Keys[i].Role)) failures.Add($"Auth:Keys:{i}:Role must be Read, Write or Admin");
        }
        if (options.Keys.Select(k => k.Key).Distinct(StringComparer.Ordinal).Count() != options.Keys.Count) failures.Add("Auth:Keys must be distinct");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
