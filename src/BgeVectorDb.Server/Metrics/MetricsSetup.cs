using System.Diagnostics.Metrics;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Telemetry;
using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace BgeVectorDb.Server.Metrics;

/// <summary>Registers metrics (options, instruments, the OpenTelemetry meter provider with its Prometheus exporter, the
/// endpoint) and live recall sampling.</summary>
internal static class MetricsSetup
{
    /// <summary>Meters exported: the engine's (BgeVectorDb.Core) and the server's (BgeVectorDb.Server).</summary>
    public const string MeterPattern = "BgeVectorDb.*";

    public static void AddServerMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MetricsOptions>().Bind(builder.Configuration.GetSection(MetricsOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MetricsOptions>, MetricsOptionsValidator>();
        builder.Services.AddSingleton<ServerMetrics>();
        builder.Services.AddSingleton<MetricsInterceptor>();
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<MetricsOptions>>().Value;
            return new RecallSampler(o.RecallSampleRate, o.RecallQueueCapacity, sp.GetRequiredService<ILoggerFactory>().CreateLogger<RecallSampler>());
        });
        // After EngineStartup (registered earlier): the catalog exists when sampling and the endpoint start.
        builder.Services.AddHostedService<MetricsStartup>();

        // Off: the instruments stay (nothing listens to them, so recording costs next to nothing), no exporter, no port.
        var enabled = builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>()?.Enabled ?? true;
        if (!enabled) return;
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(MeterPattern).AddView(PrometheusNames.View).AddPrometheusExporter(PrometheusNames.Configure));
        builder.Services.AddSingleton<MetricsEndpoint>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MetricsEndpoint>());
    }
}

/// <summary>
/// How instruments become Prometheus series: the exporter appends no suffix of its own (no unit suffixes such as
/// _bytes or _ratio; instrument names already end in their unit where they have one), counters are renamed NAME_total,
/// and histograms get buckets chosen by unit (seconds, ratios "1", row counts). No scope or target_info labels/series,
/// no response cache: every scrape reads the observable instruments anew.
/// </summary>
internal static class PrometheusNames
{
    private static readonly double[] SecondsBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private static readonly double[] RatioBuckets = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];
    private static readonly double[] CountBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

    public static void Configure(PrometheusAspNetCoreOptions o)
    {
        o.TranslationStrategy = PrometheusAspNetCoreTranslationStrategy.UnderscoreEscapingWithoutSuffixes;
        o.ScopeInfoEnabled = false;
        o.TargetInfoEnabled = false;
        o.ScrapeResponseCacheDurationMilliseconds = 0;
    }

    /// <summary>Label sets kept per series where the SDK's default (2,000) is too few: 4 stages x 2,000 collections.</summary>
    private static readonly Dictionary<string, int> CardinalityLimits = new(StringComparer.Ordinal)
    {
        ["bgevdb_search_stage_duration_seconds"] = 8000,
    };

    public static MetricStreamConfiguration? View(Instrument instrument)
    {
        var type = instrument.GetType().GetGenericTypeDefinition();
        int? limit = CardinalityLimits.TryGetValue(instrument.Name, out var l) ? l : null;
        if (type == typeof(Counter<>) || type == typeof(ObservableCounter<>))
        {
            var name = instrument.Name.EndsWith("_total", StringComparison.Ordinal) ? null : instrument.Name + "_total";
            return name is null && limit is null ? null : new MetricStreamConfiguration { Name = name, CardinalityLimit = limit };
        }
        if (type != typeof(Histogram<>)) return limit is null ? null : new MetricStreamConfiguration { CardinalityLimit = limit };
        return new ExplicitBucketHistogramConfiguration
        {
            Boundaries = instrument.Unit switch
            {
                "s" => SecondsBuckets,
                "1" => RatioBuckets,
                _ => CountBuckets,
            },
            CardinalityLimit = limit,
        };
    }
}

/// <summary>Creates the instruments and turns on recall sampling once the catalog is open.</summary>
internal sealed partial class MetricsStartup(IServiceProvider services, ILogger<MetricsStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        EngineMetrics.EnsureCreated();
        services.GetRequiredService<ServerMetrics>();
        var sampler = services.GetRequiredService<RecallSampler>();
        if (sampler.SampleRate > 0) services.GetRequiredService<CollectionCatalog>().EnableRecallSampling(sampler);
        LogRecallSampling(sampler.SampleRate);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Live recall telemetry samples a fraction {Rate} of searches (0 = off)")]
    private partial void LogRecallSampling(double rate);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
