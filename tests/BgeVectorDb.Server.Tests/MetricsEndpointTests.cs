using System.Net;
using System.Net.Sockets;
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
        using var http = new HttpClient();
        var root = server.MetricsAddress[..^"/metrics".Length];
        using var missing = await http.GetAsync(root + "/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var post = await http.PostAsync(server.MetricsAddress, new StringContent(""));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, server.MetricsAddress));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        var text = await http.GetStringAsync(server.MetricsAddress);
        Assert.Contains("# TYPE bgevdb_requests_total counter", text);
        Assert.Contains("bgevdb_execution_provider{provider=\"cpu\"} 1", text);
        Assert.Contains("Live recall telemetry samples a fraction 0.01 of searches", server.Output);
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
