namespace BgeVectorDb.Server.Tests.Infrastructure;

/// <summary>
/// A temp folder and a real server process started on it (data in {Dir}/data) for the life of a test class
/// (derive the test class) or of a class fixture (derive the fixture). Subclasses give the settings and may write
/// the tiny models first (<paramref name="tinyModels"/>: into <see cref="ModelsFolder"/>) and seed collections once
/// the server listens (<see cref="SeedAsync"/>).
/// </summary>
public abstract class TempServer(string prefix, bool tinyModels = false) : IAsyncLifetime
{
    public TempDirectory Dir { get; } = new(prefix);

    public ServerProcess Server { get; private set; } = null!;

    /// <summary>{Dir}/models: where the tiny models are written when asked for.</summary>
    public string ModelsFolder => Dir.Sub("models");

    /// <summary>The server's settings (read once, at start).</summary>
    protected abstract IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>Runs once the server listens (collections, documents).</summary>
    protected virtual Task SeedAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        if (tinyModels)
        {
            TestData.WriteTinyModels(ModelsFolder);
        }
        Server = await ServerProcess.StartAsync(Dir.Sub("data"), Settings);
        await SeedAsync();
    }

    /// <summary>Stops the server (a graceful stop unless it was killed or stopped already) and starts another on the
    /// same data folder, with <paramref name="settings"/> (default: <see cref="Settings"/>).</summary>
    protected async Task RestartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        await Server.DisposeAsync();
        Server = null!;
        Server = await ServerProcess.StartAsync(Dir.Sub("data"), settings ?? Settings);
    }

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
        Dir.Dispose();
    }
}
