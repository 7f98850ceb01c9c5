using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace BgeVectorDb.Server.Hosting;

/// <summary>
/// Enforces Server:MaxReceiveMessageBytes as the limit max_message_bytes with INVALID_ARGUMENT naming it.
/// The transport reads messages up to <see cref="TransportLimit"/> (twice the limit) so that an oversized
/// request reaches this check; anything larger still is cut off by gRPC itself with RESOURCE_EXHAUSTED
/// before it is buffered whole.
/// </summary>
internal sealed class MessageLimitInterceptor(IOptions<ServerOptions> options) : Interceptor
{
    private readonly int _limit = options.Value.MaxReceiveMessageBytes;

    public static int TransportLimit(int limit) => (int)Math.Min(int.MaxValue, 2L * limit);

    private void Check<T>(T message)
    {
        if (message is IMessage m && m.CalculateSize() is var size && size > _limit)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"request message is {size} bytes, over the limit max_message_bytes={_limit} (Server:MaxReceiveMessageBytes); send smaller batches"));
        }
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(request);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new CheckedReader<TRequest>(requestStream, this), context);

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(request);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new CheckedReader<TRequest>(requestStream, this), responseStream, context);

    private sealed class CheckedReader<T>(IAsyncStreamReader<T> inner, MessageLimitInterceptor owner) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken).ConfigureAwait(false)) return false;
            owner.Check(inner.Current);
            return true;
        }
    }
}
