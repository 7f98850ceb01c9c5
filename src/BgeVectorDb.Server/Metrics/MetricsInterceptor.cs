using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using V1 = BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Server.Metrics;

/// <summary>
/// Outermost interceptor: counts every call by RPC and final status code (auth rejections included),
/// times it, and for searches records the per-stage timings the engine reports.
/// </summary>
internal sealed class MetricsInterceptor(ServerMetrics metrics) : Interceptor
{
    private static readonly ConcurrentDictionary<StatusCode, string> CodeNames = new();

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            Done(context, started, StatusCode.OK);
            if (response is V1.SearchResponse search) RecordStages(request, search);
            return response;
        }
        catch (Exception ex)
        {
            Done(context, started, CodeOf(ex));
            throw;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await continuation(requestStream, context).ConfigureAwait(false);
            Done(context, started, StatusCode.OK);
            return response;
        }
        catch (Exception ex)
        {
            Done(context, started, CodeOf(ex));
            throw;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            Done(context, started, StatusCode.OK);
        }
        catch (Exception ex)
        {
            Done(context, started, CodeOf(ex));
            throw;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            Done(context, started, StatusCode.OK);
        }
        catch (Exception ex)
        {
            Done(context, started, CodeOf(ex));
            throw;
        }
    }

    private static StatusCode CodeOf(Exception ex) => ex switch
    {
        RpcException rpc => rpc.StatusCode,
        OperationCanceledException => StatusCode.Cancelled,
        _ => StatusCode.Unknown,
    };

    /// <summary>Counts and times one finished call; rpc label "/pkg.Service/Method" -> "pkg.Service/Method".</summary>
    private void Done(ServerCallContext context, long started, StatusCode code)
    {
        var rpc = new KeyValuePair<string, object?>("rpc", context.Method.TrimStart('/'));
        metrics.Requests.Add(1, rpc, new KeyValuePair<string, object?>("code", CodeNames.GetOrAdd(code, Upper)));
        metrics.RequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, rpc);
    }

    /// <summary>StatusCode.InvalidArgument -> "INVALID_ARGUMENT" (the names of the gRPC spec).</summary>
    private static string Upper(StatusCode code)
    {
        if (code == StatusCode.OK) return "OK";
        var name = code.ToString();
        var sb = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i])) sb.Append('_');
            sb.Append(char.ToUpperInvariant(name[i]));
        }
        return sb.ToString();
    }

    private void RecordStages<TRequest>(TRequest request, V1.SearchResponse response)
    {
        var collection = request switch
        {
            V1.SearchRequest r => r.Collection,
            V1.SearchByVectorRequest r => r.Collection,
            V1.SearchByDocumentRequest r => r.Collection,
            _ => null,
        };
        if (collection is null || response.Timings is not { } t) return;
        var c = new KeyValuePair<string, object?>("collection", collection);
        if (request is V1.SearchRequest) Stage("embed", t.EmbedUs, c);
        Stage("ann", t.AnnUs, c);
        Stage("fetch", t.FetchUs, c);
        if (response.Reranked) Stage("rerank", t.RerankUs, c);
    }

    private void Stage(string stage, ulong micros, KeyValuePair<string, object?> collection) =>
        metrics.StageDuration.Record(micros / 1e6, new KeyValuePair<string, object?>("stage", stage), collection);
}
