using System.Diagnostics.Metrics;
using System.Net;
using BgeVectorDb.Server.Metrics;

namespace BgeVectorDb.Server.Tests;

/// <summary>The text format itself, on instruments of a private meter.</summary>
public sealed class PrometheusExpositionTests
{
    [Fact]
    public void Counters_histograms_and_gauges_render_in_text_format()
    {
        var prefix = "BgeVectorDb.Test." + Guid.NewGuid().ToString("N");
        using var meter = new Meter(prefix);
        using var exposition = new PrometheusExposition(prefix);
        var counter = meter.CreateCounter<long>("t_requests", description: "Calls");
        var seconds = meter.CreateHistogram<double>("t_latency_seconds", "s", "Latency");
        var gaugeValue = 7.5;
        meter.CreateObservableGauge("t_depth", () => new Measurement<double>(gaugeValue, new KeyValuePair<string, object?>("q", "a\"b\\c")), description: "Depth");

        counter.Add(2, new KeyValuePair<string, object?>("rpc", "x"), new KeyValuePair<string, object?>("code", "OK"));
        counter.Add(1, new KeyValuePair<string, object?>("code", "OK"), new KeyValuePair<string, object?>("rpc", "x")); // same series, tags in another order
        seconds.Record(0.003);
        seconds.Record(0.001); // exactly on a bound: counted in le="0.001"
        seconds.Record(50);    // above every bound: only in +Inf

        var lines = exposition.Scrape().Split('\n');
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
        Assert.Contains("# TYPE t_depth gauge", lines);
        Assert.Contains("t_depth{q=\"a\\\"b\\\\c\"} 7.5", lines);

        // Observable values are read at each scrape.
        gaugeValue = 2;
        Assert.Contains("t_depth{q=\"a\\\"b\\\\c\"} 2", exposition.Scrape().Split('\n'));
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
