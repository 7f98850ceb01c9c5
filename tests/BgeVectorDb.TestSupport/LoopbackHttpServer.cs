using System.Net;
using System.Net.Sockets;

namespace BgeVectorDb.TestSupport;

/// <summary>
/// A real HTTP/1.1 server on a free loopback port (System.Net.HttpListener): binds, accepts in the background
/// and hands each request to <see cref="HandleAsync"/> on the thread pool. Subclasses (a fake Hugging Face hub, a
/// NuGet feed) only answer requests; each must close or abort its response.
/// </summary>
public abstract class LoopbackHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private Task _loop = Task.CompletedTask;

    public int Port { get; private set; }

    protected bool IsListening => _listener.IsListening;

    /// <summary>A port that was free a moment ago (the OS picked it for a listener that was closed again).</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    /// <summary>Binds http://{host}:{port}/ for each host name (127.0.0.1 unless given) and starts accepting.
    /// HttpListener cannot bind port 0: takes a free port from the OS, then binds it (retried on a race).
    /// Call once, from the subclass constructor, after its own fields are set.</summary>
    protected void Start(params string[] hosts)
    {
        if (hosts.Length == 0)
        {
            hosts = ["127.0.0.1"];
        }
        for (var attempt = 0; ; attempt++)
        {
            Port = FreePort();
            _listener.Prefixes.Clear();
            foreach (var host in hosts)
            {
                _listener.Prefixes.Add($"http://{host}:{Port}/");
            }
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Answers one request (runs on the thread pool; exceptions are the subclass's to handle).</summary>
    protected abstract Task HandleAsync(HttpListenerContext context);

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (!_listener.IsListening || e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    public void Dispose()
    {
        // Close only: Stop already releases the endpoint, and the managed HttpListener's Close after Stop
        // looks the endpoint up again, re-binding the port, which fails once another process holds it.
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        GC.SuppressFinalize(this);
    }
}
