using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Options;

namespace BgeVectorDb.Server.Metrics;

/// <summary>
/// The Prometheus scrape endpoint on its own port: a minimal HTTP/1.1 server (GET or HEAD /metrics, one
/// request per connection) so that scraping never shares the gRPC listener, its HTTP/2-only protocol, TLS or
/// API keys. Bind it to loopback (default) or a private interface.
/// </summary>
internal sealed partial class MetricsEndpoint(IOptions<MetricsOptions> options, PrometheusExposition exposition, ILogger<MetricsEndpoint> logger,
    IConfiguration configuration)
    : IHostedService, IDisposable
{
    private const int MaxRequestBytes = 8192;
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private Task? _accepting;

    /// <summary>The bound address, e.g. http://127.0.0.1:9464/metrics (after start).</summary>
    public string? Address { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.Enabled) return Task.CompletedTask;
        if (!MetricsOptions.TryParseListen(o.Listen, out var endpoint))
        {
            throw new OptionsValidationException(MetricsOptions.Section, typeof(MetricsOptions),
                [$"Metrics:Listen '{o.Listen}' is not host:port (e.g. 127.0.0.1:9464 or 0.0.0.0:9464)"]);
        }
        _listener = new TcpListener(endpoint);
        if (endpoint.AddressFamily == AddressFamily.InterNetworkV6 && endpoint.Address.Equals(IPAddress.IPv6Any)) _listener.Server.DualMode = true;
        try
        {
            _listener.Start();
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse && configuration[MetricsOptions.Section + ":Listen"] is null)
        {
            // Only the default: a second server on one machine (another gRPC port) must not fail on 9464. An address
            // the operator chose is never replaced (below).
            _listener = new TcpListener(new IPEndPoint(endpoint.Address, 0));
            _listener.Start();
            LogDefaultPortBusy(o.Listen, ((IPEndPoint)_listener.LocalEndpoint).Port);
        }
        catch (SocketException ex)
        {
            throw new IOException($"Metrics:Listen {o.Listen}: {ex.Message}", ex); // reported as "cannot start"
        }
        var bound = (IPEndPoint)_listener.LocalEndpoint;
        Address = $"http://{(bound.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{bound.Address}]" : bound.Address.ToString())}:{bound.Port}/metrics";
        LogListening(Address);
        _accepting = AcceptLoopAsync(_listener, _stop.Token);
        return Task.CompletedTask;
    }

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (stop.IsCancellationRequested) return;
                continue;
            }
            _ = ServeAsync(client, stop);
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken stop)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            var stream = client.GetStream();
            var request = await ReadHeadAsync(stream, timeout.Token).ConfigureAwait(false);
            var line = request is null ? "" : request[..Math.Max(0, request.IndexOf('\r', StringComparison.Ordinal))];
            var parts = line.Split(' ');
            string status, body, type = "text/plain; charset=utf-8";
            var head = parts.Length >= 2 && parts[0] == "HEAD";
            if (parts.Length < 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
            {
                (status, body) = ("400 Bad Request", "bad request\n");
            }
            else if (parts[0] != "GET" && !head)
            {
                (status, body) = ("405 Method Not Allowed", "use GET\n");
            }
            else if (parts[1].Split('?')[0] is not ("/metrics" or "/"))
            {
                (status, body) = ("404 Not Found", "metrics are at /metrics\n");
            }
            else
            {
                (status, body, type) = ("200 OK", exposition.Scrape(), "text/plain; version=0.0.4; charset=utf-8");
            }
            var bytes = Encoding.UTF8.GetBytes(body);
            var header = Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: {type}\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(header, timeout.Token).ConfigureAwait(false);
            if (!head) await stream.WriteAsync(bytes, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Client went away or was too slow.
        }
        catch (Exception ex)
        {
            LogScrapeFailed(ex);
        }
    }

    /// <summary>Reads up to the blank line ending the request head; null when the client closes early or sends too much.</summary>
    private static async Task<string?> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0) return null;
            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal)) return text;
        }
        return null;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        if (_accepting is not null) await _accepting.ConfigureAwait(false);
    }

    public void Dispose()
    {
        _listener?.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Metrics:Listen default {Default} is in use (another server on this machine?); metrics moved to free port {Port}: set Metrics:Listen to choose a fixed address")]
    private partial void LogDefaultPortBusy(string @default, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "BgeVectorDb metrics on {Address}")]
    private partial void LogListening(string address);

    [LoggerMessage(Level = LogLevel.Error, Message = "Metrics scrape failed")]
    private partial void LogScrapeFailed(Exception exception);
}
