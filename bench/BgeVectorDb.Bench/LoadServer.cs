using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace BgeVectorDb.Bench;

/// <summary>A bgevectordb-server process (the DLL built next to the bench) on free loopback ports.</summary>
internal sealed partial class LoadServer : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LoadServer(Process process) => _process = process;

    public string Address { get; private set; } = "";

    public string MetricsAddress { get; private set; } = "";

    public static async Task<LoadServer> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "bgevectordb-server.dll"));
        foreach (var (k, v) in settings) psi.ArgumentList.Add($"--{k}={v}");
        psi.Environment["DOTNET_NOLOGO"] = "1";
        var server = new LoadServer(new Process { StartInfo = psi });
        server._process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        var done = await Task.WhenAny(server._listening.Task, server._process.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(3)));
        if (done != server._listening.Task)
        {
            server.Dispose();
            throw new InvalidOperationException("server did not start:\n" + server.Output);
        }
        server.Address = await server._listening.Task;
        return server;
    }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
        if (MetricsPattern().Match(line) is { Success: true } metrics) MetricsAddress = metrics.Groups[1].Value;
        if (ListeningPattern().Match(line) is { Success: true } m) _listening.TrySetResult(m.Groups[1].Value);
    }

    /// <summary>SIGTERM, then wait for the graceful exit (kill after 30 s).</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    [GeneratedRegex(@"BgeVectorDb listening on (https?://[0-9.]+:[0-9]+)")]
    private static partial Regex ListeningPattern();

    [GeneratedRegex(@"BgeVectorDb metrics on (http://[0-9.]+:[0-9]+/metrics)")]
    private static partial Regex MetricsPattern();
}
