using BgeVectorDb.Common.Errors;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace BgeVectorDb.Server.Hosting;

/// <summary>
/// The one place that turns engine errors into gRPC statuses. Each EngineErrorKind maps to the code a
/// client can act on; InvalidArgument also carries a google.rpc.BadRequest with the field at fault.
/// Anything else escaping a service is a bug: INTERNAL, logged with its stack, message kept generic.
/// </summary>
internal sealed partial class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger, IHostApplicationLifetime lifetime) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (RequestParsing.TakeFailure(request) is { } unparsable) throw Map(unparsable, context);
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (RequestParsing.TakeFailure(request) is { } unparsable) throw Map(unparsable, context);
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    internal RpcException Map(Exception exception, ServerCallContext context)
    {
        switch (exception)
        {
            case EngineException e:
                var status = new Google.Rpc.Status { Code = (int)ToCode(e.Kind), Message = e.Message };
                if (e.Kind == EngineErrorKind.InvalidArgument && e.Field is not null)
                {
                    status.Details.Add(Any.Pack(new BadRequest
                    {
                        FieldViolations = { new BadRequest.Types.FieldViolation { Field = e.Field, Description = e.Message } },
                    }));
                }
                if (e.Kind is EngineErrorKind.Internal or EngineErrorKind.DataLoss) LogInternal(e, context.Method);
                return status.ToRpcException();
            // Bytes protobuf cannot parse (see RequestParsing): the client's to fix.
            case RequestParseException p:
                var invalid = new Google.Rpc.Status { Code = (int)StatusCode.InvalidArgument, Message = p.Message };
                invalid.Details.Add(Any.Pack(new BadRequest
                {
                    FieldViolations = { new BadRequest.Types.FieldViolation { Field = "request", Description = p.Message } },
                }));
                return invalid.ToRpcException();
            // A client that cancels, or whose deadline passes, resets its stream: reads then fail with
            // IOException. That is the client's doing, not an internal error.
            case OperationCanceledException or IOException when context.CancellationToken.IsCancellationRequested:
                return new RpcException(new Grpc.Core.Status(context.Deadline < DateTime.UtcNow ? StatusCode.DeadlineExceeded : StatusCode.Cancelled,
                    "the call was cancelled or its deadline passed"));
            // The host is stopping: the engine closed under an in-flight call (disposed collection, WAL or batcher,
            // cancelled background work). Retryable once the server is back, not a bug.
            case ObjectDisposedException or OperationCanceledException when lifetime.ApplicationStopping.IsCancellationRequested:
                return new RpcException(new Grpc.Core.Status(StatusCode.Unavailable, "the server is shutting down; retry against another instance or after it restarts"));
            default:
                LogInternal(exception, context.Method);
                return new RpcException(new Grpc.Core.Status(StatusCode.Internal, $"internal error in {context.Method}; see the server log"));
        }
    }

    /// <summary>Why each kind maps as it does: NotFound/AlreadyExists/InvalidArgument are the client's
    /// to fix; ResourceExhausted is retryable after backoff; FailedPrecondition needs a different call
    /// for this collection's setup; Unavailable is retryable as is (another replica, or this one after a restart);
    /// DataLoss is stored data damaged beyond recovery (an operator restores or deletes); Internal is ours.</summary>
    internal static StatusCode ToCode(EngineErrorKind kind) => kind switch
    {
        EngineErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        EngineErrorKind.NotFound => StatusCode.NotFound,
        EngineErrorKind.AlreadyExists => StatusCode.AlreadyExists,
        EngineErrorKind.ResourceExhausted => StatusCode.ResourceExhausted,
        EngineErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        EngineErrorKind.Unavailable => StatusCode.Unavailable,
        EngineErrorKind.DataLoss => StatusCode.DataLoss,
        _ => StatusCode.Internal,
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error in {Method}")]
    private partial void LogInternal(Exception exception, string method);
}
