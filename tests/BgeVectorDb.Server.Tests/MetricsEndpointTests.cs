using System.Net;
using System.Net.Sockets;
using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Infrastructure;

namespace BgeVectorDb.Server.Tests;

/// <summary>The metrics endpoint as an HTTP server (vectors-only server, no models) and its start-up checks.</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Serves_metrics_on_get_and_head_404_elsewhere_405_for_other_methods()
    {
        using var dir = new TempDirectory();
        await using var server = await ServerProcess.StartAsync(dir.Sub("data"), ServerSettings.NoModels());
        // A series appears with its first value: one call makes the request counter.
        Assert.Empty((await new Collections.CollectionsClient(server.Channel).ListCollectionsAsync(new ListCollectionsRequest())).Collections);
        using var http = new HttpClient();
        var root = server.MetricsAddress[..^"/metrics".Length];
        using var missing = await http.GetAsync(root + "/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var post = await http.PostAsync(server.MetricsAddress, new StringContent(""));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, server.MetricsAddress));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("", await head.Content.ReadAsStringAsync());
        using var get = await http.GetAsync(server.MetricsAddress);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", get.Content.Headers.ContentType?.ToString());
        var text = await get.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE bgevdb_requests_total counter", text);
        Assert.Contains("bgevdb_requests_total{code=\"OK\",rpc=\"bgevectordb.v1.Collections/ListCollections\"} 1", text);
        Assert.Contains("bgevdb_execution_provider{provider=\"cpu\"} 1", text);
        Assert.Contains("Live recall telemetry samples a fraction 0.01 of searches", server.Output);
        // The metrics listener's own host stays quiet: one "Now listening on" line, the gRPC one.
        Assert.Single(server.Output.Split('\n'), l => l.Contains("Now listening on", StringComparison.Ordinal));

        // Prometheus asks for OpenMetrics first; the answer stays text 0.0.4 (le="1", no _created samples, as before).
        using var openMetrics = new HttpRequestMessage(HttpMethod.Get, server.MetricsAddress);
        openMetrics.Headers.TryAddWithoutValidation("Accept",
            "application/openmetrics-text;version=1.0.0;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2");
        using var om = await http.SendAsync(openMetrics);
        Assert.Equal(HttpStatusCode.OK, om.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", om.Content.Headers.ContentType?.ToString());
        var omText = await om.Content.ReadAsStringAsync();
        Assert.Contains("bgevdb_requests_total{code=\"OK\",rpc=\"bgevectordb.v1.Collections/ListCollections\"} 1", omText);
        Assert.DoesNotContain("_created", omText, StringComparison.Ordinal);
        Assert.DoesNotContain("# EOF", omText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_can_be_turned_off()
    {
        using var dir = new TempDirectory();
        var settings = ServerSettings.NoModels();
        settings["Metrics:Enabled"] = "false";
        await using var server = await ServerProcess.StartAsync(dir.Sub("data"), settings);
        Assert.Equal("", server.MetricsAddress);
        Assert.DoesNotContain("BgeVectorDb metrics on", server.Output);
    }

    [Fact]
    public async Task A_bad_or_busy_metrics_address_stops_the_start_with_a_message()
    {
        using var dir = new TempDirectory();
        var bad = ServerSettings.NoModels();
        bad["Metrics:Listen"] = "not-an-address";
        var (exitCode, output, _) = await ServerProcess.RunToExitAsync(dir.Sub("data1"), bad, TimeSpan.FromSeconds(90));
        Assert.NotEqual(0, exitCode);
        Assert.Contains("Metrics:Listen 'not-an-address' is not host:port", output);

        // Every rule of the section names the key an operator sets.
        var rate = ServerSettings.NoModels();
        rate["Metrics:RecallSampleRate"] = "1.5";
        rate["Metrics:RecallQueueCapacity"] = "0";
        (exitCode, output, _) = await ServerProcess.RunToExitAsync(dir.Sub("data3"), rate, TimeSpan.FromSeconds(90));
        Assert.NotEqual(0, exitCode);
        Assert.Contains("Metrics:RecallSampleRate: The field RecallSampleRate must be between 0 and 1.", output);
        Assert.Contains("Metrics:RecallQueueCapacity: The field RecallQueueCapacity must be between 1 and 1000000.", output);

        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var taken = ServerSettings.NoModels();
        taken["Metrics:Listen"] = $"127.0.0.1:{port}";
        (exitCode, output, _) = await ServerProcess.RunToExitAsync(dir.Sub("data2"), taken, TimeSpan.FromSeconds(90));
        Assert.NotEqual(0, exitCode);
        Assert.Contains($"Metrics:Listen 127.0.0.1:{port}", output);
        Assert.Contains("cannot start", output);
    }

    [Fact]
    public async Task A_second_server_with_the_default_metrics_address_falls_back_to_a_free_port()
    {
        using var dir = new TempDirectory();
        var settings = ServerSettings.NoModels();
        settings["Metrics:Listen"] = ServerProcess.Unset;   // the default 127.0.0.1:9464
        await using var first = await ServerProcess.StartAsync(dir.Sub("data1"), settings);
        await using var second = await ServerProcess.StartAsync(dir.Sub("data2"), settings);
        Assert.NotEqual(first.MetricsAddress, second.MetricsAddress);
        // The second one at least found the default taken (by the first, or by anything else on this machine).
        Assert.Contains("Metrics:Listen default 127.0.0.1:9464 is in use", second.Output);
        Assert.Contains("set Metrics:Listen", second.Output);
        foreach (var server in new[] { first, second })
        {
            var scrape = await Scrape.FromAsync(server.MetricsAddress);
            Assert.True(scrape.Has("bgevdb_execution_provider"), server.MetricsAddress);
        }
    }
}
