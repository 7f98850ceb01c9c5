using System.Diagnostics.Metrics;
using System.Net;
using BgeVectorDb.Core.Telemetry;
using BgeVectorDb.Server.Metrics;
using BgeVectorDb.Server.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace BgeVectorDb.Server.Tests;

/// <summary>The export itself (names, types, buckets, escaping), scraped over HTTP from the real metrics endpoint on
/// loopback, with the server's OpenTelemetry configuration over instruments of a private meter.</summary>
public sealed class PrometheusExportTests
{
    private static async Task<(MeterProvider Provider, MetricsEndpoint Endpoint)> StartAsync(params string[] meters)
    {
        var builder = Sdk.CreateMeterProviderBuilder();
        foreach (var m in meters) builder.AddMeter(m);
        var provider = builder.AddView(PrometheusNames.View).AddPrometheusExporter(PrometheusNames.Configure).Build();
        var endpoint = new MetricsEndpoint(Options.Create(new MetricsOptions { Listen = "127.0.0.1:0" }), provider, NullLoggerFactory.Instance,
            new ConfigurationBuilder().Build());
        await endpoint.StartAsync(CancellationToken.None);
        return (provider, endpoint);
    }

    private static async Task StopAsync(MeterProvider provider, MetricsEndpoint endpoint)
    {
        await endpoint.StopAsync(CancellationToken.None);
        await endpoint.DisposeAsync();
        provider.Dispose();
    }

    /// <summary>The scrape's lines, unlabelled samples as "name value" (the exporter writes the equivalent "name{} value").</summary>
    private static async Task<string[]> LinesAsync(MetricsEndpoint endpoint) =>
        [.. (await Scrape.FromAsync(endpoint.Address!)).Text.Split('\n').Select(l => l.Replace("{} ", " ", StringComparison.Ordinal))];

    [Fact]
    public async Task Counters_histograms_and_gauges_render_in_text_format()
    {
        var name = "BgeVectorDb.Test." + Guid.NewGuid().ToString("N");
        using var meter = new Meter(name);
        var counter = meter.CreateCounter<long>("t_requests", description: "Calls");
        var seconds = meter.CreateHistogram<double>("t_latency_seconds", "s", "Latency");
        var ratios = meter.CreateHistogram<double>("t_recall", "1", "Recall");
        var rows = meter.CreateHistogram<long>("t_rows", "{row}", "Rows");
        var gaugeValue = 7.5;
        meter.CreateObservableGauge("t_depth", () => new Measurement<double>(gaugeValue, new KeyValuePair<string, object?>("q", "a\"b\\c")), description: "Depth");
        // Units whose OpenTelemetry suffixes (_bytes, _ratio) the export must not add: the names are the series names.
        meter.CreateObservableGauge("t_tail_position", () => 42L, "By", "Position");
        meter.CreateObservableGauge("t_provider", () => new Measurement<int>(1, new KeyValuePair<string, object?>("provider", "cpu")), "1", "Provider");
        var bytes = meter.CreateCounter<long>("t_written_bytes", "By", "Bytes");
        var (provider, endpoint) = await StartAsync(name);
        try
        {
            Assert.Matches(@"^http://127\.0\.0\.1:[0-9]+/metrics$", endpoint.Address);
            counter.Add(2, new KeyValuePair<string, object?>("rpc", "x"), new KeyValuePair<string, object?>("code", "OK"));
            counter.Add(1, new KeyValuePair<string, object?>("code", "OK"), new KeyValuePair<string, object?>("rpc", "x")); // same series, tags in another order
            seconds.Record(0.003);
            seconds.Record(0.001); // exactly on a bound: counted in le="0.001"
            seconds.Record(50);    // above every bound: only in +Inf
            ratios.Record(1);
            ratios.Record(0.85);
            rows.Record(3);
            bytes.Add(4096);

            var lines = await LinesAsync(endpoint);
            Assert.Contains("# HELP t_requests_total Calls", lines);
            Assert.Contains("# TYPE t_requests_total counter", lines);
            Assert.Contains("t_requests_total{code=\"OK\",rpc=\"x\"} 3", lines);
            Assert.Contains("# TYPE t_latency_seconds histogram", lines);
            Assert.Contains("t_latency_seconds_bucket{le=\"0.0005\"} 0", lines);
            Assert.Contains("t_latency_seconds_bucket{le=\"0.001\"} 1", lines);
            Assert.Contains("t_latency_seconds_bucket{le=\"0.0025\"} 1", lines);
            Assert.Contains("t_latency_seconds_bucket{le=\"0.005\"} 2", lines);
            Assert.Contains("t_latency_seconds_bucket{le=\"30\"} 2", lines);
            Assert.Contains("t_latency_seconds_bucket{le=\"+Inf\"} 3", lines);
            Assert.Contains("t_latency_seconds_count 3", lines);
            Assert.Contains("t_latency_seconds_sum 50.004", lines);
            Assert.Contains("t_recall_bucket{le=\"0.8\"} 0", lines);
            Assert.Contains("t_recall_bucket{le=\"0.9\"} 1", lines);
            Assert.Contains("t_recall_bucket{le=\"1\"} 2", lines);
            Assert.Contains("t_rows_bucket{le=\"2\"} 0", lines);
            Assert.Contains("t_rows_bucket{le=\"4\"} 1", lines);
            Assert.Contains("t_rows_bucket{le=\"4096\"} 1", lines);
            Assert.Contains("# TYPE t_depth gauge", lines);
            Assert.Contains("t_depth{q=\"a\\\"b\\\\c\"} 7.5", lines);
            Assert.Contains("t_tail_position 42", lines);
            Assert.Contains("t_provider{provider=\"cpu\"} 1", lines);
            Assert.Contains("# TYPE t_written_bytes_total counter", lines);
            Assert.Contains("t_written_bytes_total 4096", lines);
            Assert.DoesNotContain(lines, l => l.Contains("_ratio", StringComparison.Ordinal) || l.Contains("position_bytes", StringComparison.Ordinal)
                || l.Contains("otel_scope", StringComparison.Ordinal) || l.StartsWith("target_info", StringComparison.Ordinal));

            // Observable values are read at each scrape (no response cache).
            gaugeValue = 2;
            Assert.Contains("t_depth{q=\"a\\\"b\\\\c\"} 2", await LinesAsync(endpoint));
        }
        finally
        {
            await StopAsync(provider, endpoint);
        }
    }

    [Fact]
    public async Task Engine_counters_export_with_total_suffix_and_their_labels()
    {
        var collection = "c" + Guid.NewGuid().ToString("N"); // the engine meter is process-wide: a label no other test uses
        var (provider, endpoint) = await StartAsync(EngineMetrics.MeterName);
        try
        {
            EngineMetrics.RecallDropped.Add(2, new KeyValuePair<string, object?>("collection", collection));
            EngineMetrics.Checkpoints.Add(1, new KeyValuePair<string, object?>("collection", collection));
            EngineMetrics.CheckpointBytes.Add(1000, new KeyValuePair<string, object?>("collection", collection));
            var scrape = await Scrape.FromAsync(endpoint.Address!);
            Assert.Equal("counter", scrape.Types["bgevdb_recall_dropped_total"]);
            Assert.Equal(2, scrape.Sum("bgevdb_recall_dropped_total", ("collection", collection)));
            Assert.Equal(1, scrape.Sum("bgevdb_checkpoints_total", ("collection", collection)));
            Assert.Equal(1000, scrape.Sum("bgevdb_checkpoint_bytes_total", ("collection", collection)));
        }
        finally
        {
            await StopAsync(provider, endpoint);
        }
    }

    [Fact]
    public async Task Per_collection_gauges_survive_more_collection_names_than_the_cardinality_limit()
    {
        // 2,100 collections, one at a time (each deleted before the next): without renewal the SDK would report every
        // name past the 2,000th only as {otel_metric_overflow="true"}.
        var name = "BgeVectorDb.Test." + Guid.NewGuid().ToString("N");
        var current = "k0";
        using var gauges = new KeyedGauges<string>(name, "collection", () => [current], k => k,
            [new KeyedGauge<string>("t_docs", "{document}", "Documents", k => int.Parse(k[1..], System.Globalization.CultureInfo.InvariantCulture))]);
        var (provider, endpoint) = await StartAsync(name);
        try
        {
            using var http = new HttpClient();
            for (var i = 0; i < 2100; i++)
            {
                current = $"k{i}";
                var text = await http.GetStringAsync(endpoint.Address);
                Assert.DoesNotContain("overflow", text, StringComparison.Ordinal);
                Assert.True(text.Split('\n').Count(l => l.StartsWith("# TYPE t_docs ", StringComparison.Ordinal)) <= 1, text); // never two families
            }
            Assert.True(gauges.Generation >= 4, $"meter renewed {gauges.Generation - 1} times");
            // The last one is there (a scrape during a renewal may miss it once).
            Scrape last;
            var tries = 0;
            do last = await Scrape.FromAsync(endpoint.Address!);
            while (!last.Has("t_docs") && ++tries < 20);
            Assert.Equal(2099, last.Sum("t_docs", ("collection", "k2099")));
            Assert.Single(last.Samples, s => s.Name == "t_docs");
        }
        finally
        {
            await StopAsync(provider, endpoint);
        }
    }

    [Theory]
    [InlineData("127.0.0.1:9464", "127.0.0.1", 9464)]
    [InlineData("0.0.0.0:9464", "0.0.0.0", 9464)]
    [InlineData("http://localhost:80/", "127.0.0.1", 80)]
    [InlineData("*:0", "0.0.0.0", 0)]
    [InlineData("[::1]:9000", "::1", 9000)]
    public void Listen_addresses_parse(string listen, string address, int port)
    {
        Assert.True(MetricsOptions.TryParseListen(listen, out var endpoint));
        Assert.Equal(IPAddress.Parse(address), endpoint.Address);
        Assert.Equal(port, endpoint.Port);
    }

    [Theory]
    [InlineData("9464")]
    [InlineData("host.example:9464")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("127.0.0.1:")]
    public void Bad_listen_addresses_are_refused(string listen) => Assert.False(MetricsOptions.TryParseListen(listen, out _));
}
