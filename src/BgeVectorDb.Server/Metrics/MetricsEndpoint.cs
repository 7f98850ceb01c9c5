using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace BgeVectorDb.Server.Metrics;

/// <summary>
/// The Prometheus scrape endpoint on its own port: a second, minimal Kestrel application (HTTP/1.1 only, no
/// configuration sources of its own) whose one route is OpenTelemetry's Prometheus exporter middleware (GET or HEAD
/// /metrics, text format 0.0.4) over the host's <see cref="MeterProvider"/>. Scraping never shares the gRPC listener,
/// its HTTP/2-only protocol, TLS or API keys. Bind it to loopback (default) or a private interface.
/// </summary>
internal sealed partial class MetricsEndpoint(IOptions<MetricsOptions> options, MeterProvider meterProvider, ILoggerFactory loggerFactory,
    IConfiguration configuration) : IHostedService, IAsyncDisposable
{
    public const string Path = "/metrics";

    private readonly ILogger _logger = loggerFactory.CreateLogger<MetricsEndpoint>();
    private WebApplication? _app;

    /// <summary>The bound address, e.g. http://127.0.0.1:9464/metrics (after start).</summary>
    public string? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!MetricsOptions.TryParseListen(o.Listen, out var endpoint)) throw new InvalidOperationException("Metrics:Listen was not validated"); // see MetricsOptionsValidator
        try
        {
            _app = await StartAppAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (ex.InnerException is AddressInUseException && configuration[MetricsOptions.Section + ":Listen"] is null)
        {
            // Only the default: a second server on one machine (another gRPC port) must not fail on 9464. An address
            // the operator chose is never replaced (below).
            _app = await StartAppAsync(new IPEndPoint(endpoint.Address, 0), cancellationToken).ConfigureAwait(false);
            LogDefaultPortBusy(o.Listen, BoundPort(_app));
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            throw new IOException($"Metrics:Listen {o.Listen}: {ex.Message}", ex); // reported as "cannot start"
        }
        var bound = new IPEndPoint(endpoint.Address, BoundPort(_app));
        Address = $"http://{bound}{Path}";
        LogListening(Address);
    }

    private async Task<WebApplication> StartAppAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        // The empty builder reads no appsettings, environment or command line: the main host's Kestrel and URL settings
        // (Server:Listen, ASPNETCORE_URLS) never leak into this listener.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(endpoint, l => l.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddSingleton<ILoggerFactory>(new EmbeddedLoggerFactory(loggerFactory));
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>(); // the main host owns Ctrl+C / SIGTERM
        var app = builder.Build();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(meterProvider, IsScrape, path: null, configureBranchedPipeline: TextFormatOnly, optionsName: null);
        app.Run(context =>
        {
            context.Response.StatusCode = context.Request.Path == Path ? StatusCodes.Status405MethodNotAllowed : StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            return app;
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Always the Prometheus text format 0.0.4, as before: without this the exporter answers Prometheus's
    /// preferred OpenMetrics, whose bucket bounds read le="1.0" instead of le="1" and which adds NAME_created samples,
    /// changing label values and series that dashboards and recording rules already use.</summary>
    private static void TextFormatOnly(IApplicationBuilder branch) => branch.Use((context, next) =>
    {
        context.Request.Headers.Remove("Accept");
        return next(context);
    });

    private static bool IsScrape(HttpContext context) =>
        context.Request.Path == Path && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method));

    private static int BoundPort(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address).Port;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null) await _app.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync().ConfigureAwait(false);
        _app = null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Metrics:Listen default {Default} is in use (another server on this machine?); metrics moved to free port {Port}: set Metrics:Listen to choose a fixed address")]
    private partial void LogDefaultPortBusy(string @default, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "BgeVectorDb metrics on {Address}")]
    private partial void LogListening(string address);

    /// <summary>The host's loggers, less this application's own "Now listening on" / "Application started" lines (the
    /// endpoint logs "BgeVectorDb metrics on ..." instead; the gRPC host keeps those lines to itself). Never disposes the
    /// host's factory.</summary>
    private sealed class EmbeddedLoggerFactory(ILoggerFactory host) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) =>
            categoryName == "Microsoft.Hosting.Lifetime" ? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance : host.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("the metrics endpoint logs through the host's providers");

        public void Dispose()
        {
        }
    }

    /// <summary>The metrics application starts and stops with the main host; it handles no process signals itself.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
