using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Grpc.Net.Client;

namespace BgeVectorDb.Server.Tests.Infrastructure;

/// <summary>
/// A real bgevectordb-server process on a free loopback port, started with `dotnet bgevectordb-server.dll`
/// from this test's output folder. Stdout/stderr are captured for assertions and failure messages.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process)
    {
        _process = process;
    }

    /// <summary>A setting value that leaves the key out of the command line (the server's own default applies).</summary>
    public const string Unset = "\u0000unset";

    public string Address { get; private set; } = "";

    /// <summary>The Prometheus endpoint, e.g. http://127.0.0.1:41234/metrics (empty when metrics are off).</summary>
    public string MetricsAddress { get; private set; } = "";

    public GrpcChannel Channel { get; private set; } = null!;

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the server with the given configuration (as --Key=Value) and extra environment variables, and
    /// waits until it listens. Throws with the server's output when it exits or does not listen in time.</summary>
    public static async Task<ServerProcess> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string> settings, TimeSpan? timeout = null,
        Func<string, GrpcChannel>? channelFactory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var server = Launch(dataDirectory, settings, environment);
        var finished = await Task.WhenAny(server._listening.Task, server._process.WaitForExitAsync(), Task.Delay(timeout ?? TimeSpan.FromSeconds(90)));
        if (finished != server._listening.Task)
        {
            var exited = server._process.HasExited;
            await server.DisposeAsync();
            throw new InvalidOperationException($"server did not start ({(exited ? "exited with " + server._process.ExitCode : "timeout")}):\n{server.Output}");
        }
        server.Address = await server._listening.Task;
        server.Channel = channelFactory is null ? GrpcChannel.ForAddress(server.Address) : channelFactory(server.Address);
        return server;
    }

    /// <summary>Starts the server and waits for it to exit on its own (for start-up failures).</summary>
    public static async Task<(int ExitCode, string Output, TimeSpan Elapsed)> RunToExitAsync(string dataDirectory, IReadOnlyDictionary<string, string> settings, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        await using var server = Launch(dataDirectory, settings);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await server._process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new InvalidOperationException($"server still running after {timeout}:\n{server.Output}");
        }
        server._process.WaitForExit(); // flush redirected output
        return (server._process.ExitCode, server.Output, sw.Elapsed);
    }

    private static ServerProcess Launch(string dataDirectory, IReadOnlyDictionary<string, string> settings, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "bgevectordb-server.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(dll);
        var all = new Dictionary<string, string>
        {
            ["Server:Listen"] = "http://127.0.0.1:0",
            ["Metrics:Listen"] = "127.0.0.1:0",
            ["Server:DataDirectory"] = dataDirectory,
            ["Logging:Console:FormatterName"] = "simple",
            ["Logging:Console:FormatterOptions:SingleLine"] = "true",
        };
        foreach (var (k, v) in settings) all[k] = v;
        foreach (var (k, v) in all)
        {
            if (v != Unset) psi.ArgumentList.Add($"--{k}={v}");
        }
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
        var metrics = MetricsPattern().Match(line);
        if (metrics.Success) MetricsAddress = metrics.Groups[1].Value;
        var m = ListeningPattern().Match(line);
        if (m.Success) _listening.TrySetResult(m.Groups[1].Value);
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM and wait for the graceful exit.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            using var cts = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cts.Token);
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Channel?.Dispose();
        try
        {
            if (!_process.HasExited) await StopAsync(TimeSpan.FromSeconds(20));
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"BgeVectorDb listening on (https?://[0-9.]+:[0-9]+)")]
    private static partial Regex ListeningPattern();

    [GeneratedRegex(@"BgeVectorDb metrics on (http://[0-9.]+:[0-9]+/metrics)")]
    private static partial Regex MetricsPattern();
}
