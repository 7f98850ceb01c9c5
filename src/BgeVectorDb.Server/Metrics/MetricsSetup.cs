using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Telemetry;
using Microsoft.Extensions.Options;

namespace BgeVectorDb.Server.Metrics;

/// <summary>Registers metrics (options, instruments, the exposition, the endpoint) and live recall sampling.</summary>
internal static class MetricsSetup
{
    public static void AddServerMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>().Bind(builder.Configuration.GetSection(MetricsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ServerMetrics>();
        builder.Services.AddSingleton<MetricsInterceptor>();
        builder.Services.AddSingleton(_ => new PrometheusExposition());
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<MetricsOptions>>().Value;
            return new RecallSampler(o.RecallSampleRate, o.RecallQueueCapacity, sp.GetRequiredService<ILoggerFactory>().CreateLogger<RecallSampler>());
        });
        // After EngineStartup (registered earlier): the catalog exists when sampling and the endpoint start.
        builder.Services.AddHostedService<MetricsStartup>();
        builder.Services.AddSingleton<MetricsEndpoint>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MetricsEndpoint>());
    }
}

/// <summary>Creates the instruments and turns on recall sampling once the catalog is open.</summary>
internal sealed partial class MetricsStartup(IServiceProvider services, ILogger<MetricsStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        EngineMetrics.EnsureCreated();
        services.GetRequiredService<ServerMetrics>();
        services.GetRequiredService<PrometheusExposition>();
        var sampler = services.GetRequiredService<RecallSampler>();
        if (sampler.SampleRate > 0) services.GetRequiredService<CollectionCatalog>().EnableRecallSampling(sampler);
        LogRecallSampling(sampler.SampleRate);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Live recall telemetry samples a fraction {Rate} of searches (0 = off)")]
    private partial void LogRecallSampling(double rate);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
