#pragma warning disable CA1050 // .NET finds a startup hook by this exact name, in no namespace
/// <summary>Runs inside a server process started with this test assembly in DOTNET_STARTUP_HOOKS (see
/// <see cref="BgeVectorDb.Server.Tests.Infrastructure.SlowStore"/>); does nothing unless its variable is set.</summary>
internal static class StartupHook
#pragma warning restore CA1050
{
    public static void Initialize()
    {
        // The server's dependency list does not name the test assemblies: load them from beside this one.
        var folder = Path.GetDirectoryName(typeof(StartupHook).Assembly.Location)!;
        System.Runtime.Loader.AssemblyLoadContext.Default.Resolving += (context, name) =>
            File.Exists(Path.Combine(folder, name.Name + ".dll")) ? context.LoadFromAssemblyPath(Path.Combine(folder, name.Name + ".dll")) : null;
        if (Environment.GetEnvironmentVariable(BgeVectorDb.Server.Tests.Infrastructure.SlowStore.Variable) is { Length: > 0 } spec)
        {
            BgeVectorDb.Server.Tests.Infrastructure.SlowStore.Install(spec);
        }
    }
}
