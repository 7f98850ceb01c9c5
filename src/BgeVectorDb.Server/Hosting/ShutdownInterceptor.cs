using BgeVectorDb.Common.Errors;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace BgeVectorDb.Server.Hosting;

/// <summary>
/// Innermost interceptor: runs every call under <see cref="ShutdownDrain"/>. Once the shutdown started, new calls are
/// refused; a call still running when the drain ends calls sees its cancellation token fire (its reads, writes and
/// engine work stop) and ends with UNAVAILABLE. Errors leave as <see cref="EngineException"/> of kind Unavailable so
/// that <see cref="ErrorMappingInterceptor"/> stays the one place that chooses status codes.
/// </summary>
internal sealed class ShutdownInterceptor(ShutdownDrain drain) : Interceptor
{
    /// <summary>Health and reflection keep answering during the drain and do not hold it open.</summary>
    internal static bool Counted(string method) =>
        !method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal) && !method.StartsWith("/grpc.reflection.", StringComparison.Ordinal);

    private DrainedCall Enter(ServerCallContext context)
    {
        var counted = Counted(context.Method);
        if (!drain.TryEnter(counted)) throw new EngineException(EngineErrorKind.Unavailable, ShutdownDrain.RefusedMessage);
        return new DrainedCall(drain, counted, context);
    }

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        using var call = Enter(context);
        return await call.RunAsync(c => continuation(request, c), streaming: false).ConfigureAwait(false);
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var call = Enter(context);
        return await call.RunAsync(c => continuation(new Reader<TRequest>(requestStream, call), c), streaming: true).ConfigureAwait(false);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var call = Enter(context);
        await call.RunAsync(async c =>
        {
            await continuation(request, new Writer<TResponse>(responseStream, call), c).ConfigureAwait(false);
            return true;
        }, streaming: true).ConfigureAwait(false);
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var call = Enter(context);
        await call.RunAsync(async c =>
        {
            await continuation(new Reader<TRequest>(requestStream, call), new Writer<TResponse>(responseStream, call), c).ConfigureAwait(false);
            return true;
        }, streaming: true).ConfigureAwait(false);
    }

    /// <summary>One admitted call: its token fires when the client cancels or the drain ends it.</summary>
    private sealed class DrainedCall : IDisposable
    {
        private readonly ShutdownDrain _drain;
        private readonly ServerCallContext _inner;
        private readonly CancellationTokenSource _token;
        private volatile bool _abandoned;

        public DrainedCall(ShutdownDrain drain, bool counted, ServerCallContext inner)
        {
            _drain = drain;
            _inner = inner;
            _token = CancellationTokenSource.CreateLinkedTokenSource(inner.CancellationToken, drain.Ending);
            Context = new DrainedContext(inner, _token.Token);
            // The call leaves the drain once its response (status included) is sent, not when its handler returns:
            // Kestrel must not close the connection while a status is still on its way.
            inner.GetHttpContext().Response.OnCompleted(() =>
            {
                drain.Exit(counted);
                return Task.CompletedTask;
            });
        }

        public ServerCallContext Context { get; }

        public CancellationToken Token => _token.Token;

        /// <summary>The handler's status already went out: it must not touch the call's streams any more.</summary>
        public bool Abandoned => _abandoned;

        private bool EndedByDrain => _drain.Ending.IsCancellationRequested && !_inner.CancellationToken.IsCancellationRequested;

        private static EngineException Ended() => new(EngineErrorKind.Unavailable, ShutdownDrain.EndedMessage);

        public async Task<T> RunAsync<T>(Func<ServerCallContext, Task<T>> handler, bool streaming)
        {
            Task<T> task;
            try
            {
                task = handler(Context);
            }
            catch (Exception ex) when (EndedByDrain && ex is OperationCanceledException or ObjectDisposedException or IOException)
            {
                throw Ended();
            }
            if (!task.IsCompleted && await Task.WhenAny(task, _drain.Abandoned).ConfigureAwait(false) != task)
            {
                // Cancelled but still running past the grace: answer without it; observe its end so nothing goes unobserved.
                _abandoned = true;
                _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                throw Ended();
            }
            T result;
            try
            {
                result = await task.ConfigureAwait(false);
            }
            catch (Exception ex) when (EndedByDrain && ex is OperationCanceledException or ObjectDisposedException or IOException)
            {
                throw Ended();
            }
            // A stream still open when the drain ended it did not finish, whatever its handler made of the cancellation
            // (the health watch, for one, returns quietly): its client must see UNAVAILABLE, not OK.
            if (streaming && EndedByDrain) throw Ended();
            return result;
        }

        public void Dispose() => _token.Dispose();
    }

    private sealed class Reader<T>(IAsyncStreamReader<T> inner, DrainedCall call) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (call.Abandoned) throw new OperationCanceledException(call.Token);
            if (!cancellationToken.CanBeCanceled || cancellationToken == call.Token) return await inner.MoveNext(call.Token).ConfigureAwait(false);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, call.Token);
            return await inner.MoveNext(linked.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Refuses writes once the call was ended. A write already waiting for the client (flow control) is not
    /// cancelled by the drain: grpc-dotnet resets the HTTP/2 stream (CANCEL) when a pending write is cancelled, the very
    /// reset the drain exists to avoid; the next write fails instead and the call ends with UNAVAILABLE.</summary>
    private sealed class Writer<T>(IServerStreamWriter<T> inner, DrainedCall call) : IServerStreamWriter<T>
    {
        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

        public Task WriteAsync(T message, CancellationToken cancellationToken)
        {
            if (call.Abandoned) throw new OperationCanceledException(call.Token);
            call.Token.ThrowIfCancellationRequested();
            cancellationToken.ThrowIfCancellationRequested();
            // The handler's token is usually the call's own (the drained context's); only a token of its own reaches the transport.
            return inner.WriteAsync(message, cancellationToken == call.Token ? CancellationToken.None : cancellationToken);
        }
    }

    /// <summary>The call's context with the drained token; everything else is the transport's own.</summary>
    private sealed class DrainedContext : ServerCallContext
    {
        /// <summary>Where GetHttpContext() looks on a context that is not the transport's own (grpc-dotnet resolves
        /// each service instance through it).</summary>
        private const string HttpContextKey = "__HttpContext";

        private readonly ServerCallContext inner;
        private readonly CancellationToken token;

        public DrainedContext(ServerCallContext inner, CancellationToken token)
        {
            this.inner = inner;
            this.token = token;
            inner.UserState[HttpContextKey] = inner.GetHttpContext();
        }

        protected override string MethodCore => inner.Method;

        protected override string HostCore => inner.Host;

        protected override string PeerCore => inner.Peer;

        protected override DateTime DeadlineCore => inner.Deadline;

        protected override Metadata RequestHeadersCore => inner.RequestHeaders;

        protected override CancellationToken CancellationTokenCore => token;

        protected override Metadata ResponseTrailersCore => inner.ResponseTrailers;

        protected override Status StatusCore
        {
            get => inner.Status;
            set => inner.Status = value;
        }

        protected override WriteOptions? WriteOptionsCore
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        protected override AuthContext AuthContextCore => inner.AuthContext;

        protected override IDictionary<object, object> UserStateCore => inner.UserState;

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => inner.WriteResponseHeadersAsync(responseHeaders);

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => inner.CreatePropagationToken(options);
    }
}
