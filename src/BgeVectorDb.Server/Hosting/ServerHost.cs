using BgeVectorDb.Common.Models;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Storage;
using BgeVectorDb.Server.Metrics;
using BgeVectorDb.Server.Services;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Server.Hosting;

/// <summary>Builds and runs the gRPC host. Options come from appsettings.json, environment variables
/// (BGEVDB_ prefix, e.g. BGEVDB_Server__DataDirectory) and the command line (--Server:Listen=...),
/// validated at start.</summary>
public static partial class ServerHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        WebApplication app;
        try
        {
            app = Build(args);
        }
        catch (Exception ex) when (StartupFailure(ex) is { } message)
        {
            await Console.Error.WriteLineAsync("bgevectordb: invalid configuration: " + message);
            return 2;
        }
        try
        {
            await app.StartAsync();
        }
        catch (Exception ex) when (StartupFailure(ex) is { } message)
        {
            await Console.Error.WriteLineAsync("bgevectordb: cannot start: " + message);
            await app.DisposeAsync();
            return 3;
        }
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("BgeVectorDb.Server");
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        LogListening(logger, string.Join(", ", addresses));
        app.Services.GetRequiredService<ShutdownDrain>().SetHealth("", serving: true);
        await app.WaitForShutdownAsync();
        await app.DisposeAsync();
        return 0;
    }

    internal static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddEnvironmentVariables("BGEVDB_");
        builder.Configuration.AddCommandLine(args);

        builder.Services.AddOptions<ServerOptions>().Bind(builder.Configuration.GetSection(ServerOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ServerOptions>>(new SectionAnnotationsValidator<ServerOptions>(ServerOptions.Section));
        builder.Services.AddOptions<InferenceOptions>().Bind(builder.Configuration.GetSection(InferenceOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<InferenceOptions>>(new SectionAnnotationsValidator<InferenceOptions>(InferenceOptions.Section));
        builder.Services.AddOptions<ModelOptions>().Bind(builder.Configuration.GetSection(ModelOptions.SectionName)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ModelOptions>, ModelOptionsValidator>();
        builder.Services.AddOptions<AuthOptions>().Bind(builder.Configuration.GetSection(AuthOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        builder.Services.AddOptions<EngineLimits>().Bind(builder.Configuration.GetSection(EngineLimits.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EngineLimits>, EngineLimitsValidator>();
        builder.Services.AddOptions<StorageOptions>().Bind(builder.Configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        if (ConfigurationChecks.ExecutionProvider(builder.Configuration) is { } provider) throw new OptionsValidationException(InferenceOptions.Section, typeof(InferenceOptions), [provider]);

        var server = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        if (server.TlsContradiction() is { } contradiction) throw new OptionsValidationException(ServerOptions.Section, typeof(ServerOptions), [contradiction]);
        builder.WebHost.UseUrls(server.Listen);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ConfigureEndpointDefaults(e => e.Protocols = HttpProtocols.Http2);
            // The connection's flow-control window covers every stream's window (100 x 768 KiB = 75 MiB with Kestrel's
            // defaults instead of its 1 MiB), so a client's streaming writer only ever waits on its own stream's window.
            // Kestrel never reopens that window once the call has ended, whereas connection credit comes back whenever
            // another stream of the connection ends (its unread bytes are returned). A Grpc.Net.Client writer woken by such
            // credit while its own call is ending (e.g. ingest streams ended NOT_FOUND by a collection delete) can send a
            // DATA frame after its own RST_STREAM; Kestrel treats that as a connection error (GOAWAY STREAM_CLOSED) and
            // every other call on the connection failed with INTERNAL. Cost: unread request bytes buffered per connection are
            // bounded by 75 MiB instead of 1 MiB (each stream still by its 768 KiB window; a client could open more connections anyway).
            k.Limits.Http2.InitialConnectionWindowSize = (int)Math.Min(int.MaxValue,
                (long)k.Limits.Http2.MaxStreamsPerConnection * k.Limits.Http2.InitialStreamWindowSize);
            // One limit: Kestrel's default request body cap (30,000,000 bytes) cut unary requests off below
            // Server:MaxReceiveMessageBytes with UNKNOWN. gRPC answers RESOURCE_EXHAUSTED from the 5-byte header of a
            // frame over the transport limit (twice the limit) and MessageLimitInterceptor INVALID_ARGUMENT between the
            // limit and twice it; Kestrel's cap must never fire first. Before gRPC's first read a client can have sent
            // at most the stream's initial flow-control window, so the cap is one whole frame plus that window (it
            // still bounds bytes sent after a unary message). Streaming calls have no body cap (grpc-dotnet lifts it).
            k.Limits.MaxRequestBodySize = MessageLimitInterceptor.TransportLimit(server.MaxReceiveMessageBytes) + 5L + k.Limits.Http2.InitialStreamWindowSize;
            if (server.Tls.CertificatePath is not null)
            {
                var certificate = server.Tls.Load();
                k.ConfigureHttpsDefaults(h => h.ServerCertificate = certificate);
            }
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(server.ShutdownTimeoutSeconds));

        builder.Services.AddGrpc(o =>
        {
            // Up to twice the limit is read so MessageLimitInterceptor can answer INVALID_ARGUMENT naming it.
            o.MaxReceiveMessageSize = MessageLimitInterceptor.TransportLimit(server.MaxReceiveMessageBytes);
            o.Interceptors.Add<MetricsInterceptor>();
            o.Interceptors.Add<ApiKeyInterceptor>();
            o.Interceptors.Add<MessageLimitInterceptor>();
            o.Interceptors.Add<ErrorMappingInterceptor>();
            // Innermost: refuses calls once the shutdown started and ends those still running at its deadline.
            o.Interceptors.Add<ShutdownInterceptor>();
        });
        builder.Services.AddGrpcReflection();
        // Requests protobuf cannot parse reach the interceptors (INVALID_ARGUMENT, counted) instead of UNKNOWN.
        RequestParsing.UseParseCheckingBinder(builder.Services);
        builder.Services.AddSingleton<HealthServiceImpl>(_ =>
        {
            var health = new HealthServiceImpl();
            health.SetStatus("", HealthCheckResponse.Types.ServingStatus.NotServing);
            return health;
        });
        builder.Services.AddSingleton<ServerClock>();
        builder.Services.AddSingleton<ShutdownDrain>();
        // Its StoppingAsync runs before any hosted service stops: calls drain while Kestrel and the catalog still run.
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ShutdownDrain>());
        builder.Services.AddSingleton<ApiKeyInterceptor>();
        builder.Services.AddSingleton<ModelHost>();
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ServerOptions>>().Value;
            return CollectionCatalog.Open(Path.GetFullPath(options.DataDirectory), sp.GetRequiredService<ModelHost>(),
                sp.GetRequiredService<IOptions<EngineLimits>>().Value, sp.GetRequiredService<ILoggerFactory>().CreateLogger<CollectionCatalog>(),
                sp.GetRequiredService<IOptions<StorageOptions>>().Value);
        });
        // Open models and collections at start, not on the first call.
        builder.Services.AddHostedService<EngineStartup>();
        builder.AddServerMetrics();

        var app = builder.Build();
        app.MapGrpcService<CollectionsService>();
        app.MapGrpcService<DocumentsService>();
        app.MapGrpcService<SearchService>();
        app.MapGrpcService<MiningService>();
        app.MapGrpcService<AdminService>();
        app.MapGrpcService<HealthServiceImpl>();
        app.MapGrpcReflectionService();
        return app;
    }

    private static string? StartupFailure(Exception ex) => ex switch
    {
        OptionsValidationException o => "invalid configuration: " + string.Join("; ", o.Failures),
        _ when ConfigurationChecks.IsBindingFailure(ex) => "invalid configuration: " + ex.Message,
        ModelUnavailableException or ExecutionProviderUnavailableException => ex.Message,
        IOException or InvalidDataException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException => ex.Message,
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "BgeVectorDb listening on {Addresses}")]
    private static partial void LogListening(ILogger logger, string addresses);
}

/// <summary>Resolves the singletons that do real work at construction (models, catalog recovery)
/// before the server accepts calls; disposes the catalog at shutdown.</summary>
internal sealed class EngineStartup(IServiceProvider services) : IHostedService
{
    /// <summary>Health service name for writes: NOT_SERVING while a collection's WAL refuses writes (disk full).</summary>
    internal const string WritesService = "bgevectordb.v1.Documents";

    private readonly CancellationTokenSource _stop = new();
    private Task _watch = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await services.GetRequiredService<ModelHost>().LoadDefaultsAsync(cancellationToken);
        var catalog = services.GetRequiredService<CollectionCatalog>();
        var health = services.GetRequiredService<ShutdownDrain>();
        health.SetHealth(WritesService, serving: true);
        _watch = Task.Run(() => WatchWritesAsync(catalog, health, _stop.Token), CancellationToken.None);
    }

    /// <summary>Once a second: writes health follows the WALs (a broken one is reopened when space returns).</summary>
    private static async Task WatchWritesAsync(CollectionCatalog catalog, ShutdownDrain health, CancellationToken token)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(token))
            {
                var blocked = catalog.WritesBlocked();
                health.SetHealth(WritesService, serving: blocked is null);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _watch;
        services.GetRequiredService<HealthServiceImpl>().SetStatus(WritesService, HealthCheckResponse.Types.ServingStatus.NotServing);
        services.GetRequiredService<HealthServiceImpl>().SetStatus("", HealthCheckResponse.Types.ServingStatus.NotServing);
        // The shutdown checkpoints stop at the deadline (the WAL holds every acked write), so the process exits in time.
        await services.GetRequiredService<CollectionCatalog>().CloseAsync(services.GetRequiredService<ShutdownDrain>().CheckpointDeadline);
    }
}
