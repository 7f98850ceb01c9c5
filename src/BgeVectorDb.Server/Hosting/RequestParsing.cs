using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BgeVectorDb.Server.Hosting;

/// <summary>A request message protobuf could not parse (invalid UTF-8 in a string, nesting past the recursion
/// limit, a truncated field...). <see cref="ErrorMappingInterceptor"/> maps it to INVALID_ARGUMENT.</summary>
internal sealed class RequestParseException(string messageType, Exception inner)
    : Exception($"request: not a valid {messageType} message: {inner.Message}", inner)
{
    public string MessageType { get; } = messageType;
}

/// <summary>
/// grpc-dotnet parses a unary (or server-streaming) request before any interceptor runs, and reports a parse
/// failure as UNKNOWN "Exception was thrown by handler", uncounted by the metrics interceptor. So every service is
/// bound here, as grpc-dotnet's default binder would bind it (the generated BindService method, the overriding
/// instance methods), but with a request deserializer that catches parse failures:
/// <list type="bullet">
/// <item>for calls with one request message it returns an empty placeholder request and records the failure
/// against it; <see cref="ErrorMappingInterceptor"/> (after the metrics and API-key interceptors) finds it with
/// <see cref="TakeFailure"/> and answers INVALID_ARGUMENT;</item>
/// <item>for streamed requests the failure is thrown from MoveNext inside the call, where the same interceptor maps it.</item>
/// </list>
/// </summary>
internal static class RequestParsing
{
    private static readonly ConditionalWeakTable<object, RequestParseException> Failures = new();

    /// <summary>Replaces grpc-dotnet's default service method provider with <see cref="ParseCheckingMethodProvider{TService}"/>.
    /// Call after AddGrpc.</summary>
    public static void UseParseCheckingBinder(IServiceCollection services)
    {
        var defaults = services.Where(d => d.ServiceType == typeof(IServiceMethodProvider<>)
            && d.ImplementationType is { Name: var name } && name.StartsWith("BinderServiceMethodProvider", StringComparison.Ordinal)).ToList();
        if (defaults.Count == 0)
        {
            throw new InvalidOperationException("grpc-dotnet's BinderServiceMethodProvider is not registered: call AddGrpc first (or its name changed)");
        }
        foreach (var d in defaults) services.Remove(d);
        services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IServiceMethodProvider<>), typeof(ParseCheckingMethodProvider<>)));
    }

    /// <summary>The parse failure recorded for a placeholder request, if <paramref name="request"/> is one.</summary>
    public static RequestParseException? TakeFailure(object? request)
    {
        if (request is null || !Failures.TryGetValue(request, out var failure)) return null;
        Failures.Remove(request);
        return failure;
    }

    internal static Method<TRequest, TResponse> WithCheckedParsing<TRequest, TResponse>(Method<TRequest, TResponse> method, bool placeholderOnFailure)
        where TRequest : class where TResponse : class
    {
        var inner = method.RequestMarshaller;
        var marshaller = new Marshaller<TRequest>(inner.ContextualSerializer, context => Parse(inner, context, placeholderOnFailure));
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, marshaller, method.ResponseMarshaller);
    }

    private static TRequest Parse<TRequest>(Marshaller<TRequest> inner, DeserializationContext context, bool placeholderOnFailure) where TRequest : class
    {
        try
        {
            return inner.ContextualDeserializer(context);
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or DecoderFallbackException)
        {
            var descriptor = typeof(TRequest).GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as Google.Protobuf.Reflection.MessageDescriptor;
            var failure = new RequestParseException(descriptor?.FullName ?? typeof(TRequest).Name, ex);
            if (!placeholderOnFailure) throw failure;
            var placeholder = Activator.CreateInstance<TRequest>();
            Failures.AddOrUpdate(placeholder, failure);
            return placeholder;
        }
    }
}

/// <summary>Binds the methods of <typeparamref name="TService"/> from its generated BindService method, with
/// <see cref="RequestParsing.WithCheckedParsing"/> request marshallers.</summary>
internal sealed class ParseCheckingMethodProvider<TService> : IServiceMethodProvider<TService> where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is not { } attribute) continue;
            var bind = attribute.BindType.GetMethod(attribute.BindMethodName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static,
                [typeof(ServiceBinderBase), type]) ?? throw new InvalidOperationException(
                    $"{attribute.BindType}.{attribute.BindMethodName}(ServiceBinderBase, {type.Name}) not found for {typeof(TService)}");
            bind.Invoke(null, [new Binder(context, type), null]);
            return;
        }
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context, Type generatedBase) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(RequestParsing.WithCheckedParsing(method, placeholderOnFailure: true), Metadata(method, out var m),
                Invoker<UnaryServerMethod<TService, TRequest, TResponse>>(m));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(RequestParsing.WithCheckedParsing(method, placeholderOnFailure: true), Metadata(method, out var m),
                Invoker<ServerStreamingServerMethod<TService, TRequest, TResponse>>(m));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(RequestParsing.WithCheckedParsing(method, placeholderOnFailure: false), Metadata(method, out var m),
                Invoker<ClientStreamingServerMethod<TService, TRequest, TResponse>>(m));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(RequestParsing.WithCheckedParsing(method, placeholderOnFailure: false), Metadata(method, out var m),
                Invoker<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(m));

        private static TDelegate Invoker<TDelegate>(MethodInfo implementation) where TDelegate : Delegate =>
            (TDelegate)Delegate.CreateDelegate(typeof(TDelegate), implementation);

        /// <summary>The instance method implementing <paramref name="method"/>: the most derived override of the generated
        /// base class's virtual method (the base one answers UNIMPLEMENTED), and the endpoint metadata of the service and
        /// the method (type attributes first so method attributes win; POST only, CORS preflight accepted).</summary>
        private List<object> Metadata<TRequest, TResponse>(Method<TRequest, TResponse> method, out MethodInfo implementation)
            where TRequest : class where TResponse : class
        {
            Type[] parameters = method.Type switch
            {
                MethodType.Unary => [typeof(TRequest), typeof(ServerCallContext)],
                MethodType.ServerStreaming => [typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)],
                MethodType.ClientStreaming => [typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext)],
                _ => [typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext)],
            };
            MethodInfo? found = null;
            for (var type = typeof(TService); type is not null && found is null; type = type.BaseType)
            {
                var candidate = type.GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly, null, parameters, null);
                if (candidate is { IsVirtual: true } && candidate.GetBaseDefinition().DeclaringType == generatedBase) found = candidate;
            }
            implementation = found ?? throw new InvalidOperationException($"no implementation of {method.FullName} on {typeof(TService)}");
            var metadata = new List<object>();
            metadata.AddRange(typeof(TService).GetCustomAttributes(inherit: true));
            metadata.AddRange(implementation.GetCustomAttributes(inherit: true));
            metadata.Add(new HttpMethodMetadata(["POST"], acceptCorsPreflight: true));
            return metadata;
        }
    }
}
