using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Server.Tests.Infrastructure;

/// <summary>
/// A slow disk under one collection's FasterKV store, inside a real server process. <see cref="ServerProcess"/> sets
/// <see cref="Variable"/> ("COLLECTION=MILLISECONDS") and loads this test assembly as a .NET startup hook
/// (DOTNET_STARTUP_HOOKS); the hook wraps that collection's store device so every write reaches the real device only
/// after the delay. The delay ignores cancellation and disposal, like an I/O stuck in the kernel, so a FASTER flush
/// (e.g. the shutdown checkpoint's) cannot finish sooner. The WAL and every other collection use the real disk.
/// </summary>
public static class SlowStore
{
    /// <summary>Environment variable naming the collection and the delay of each store write.</summary>
    public const string Variable = "BGEVDB_TEST_SLOW_STORE";

    /// <summary>The environment a server process needs for <paramref name="collection"/>'s store writes to take <paramref name="delay"/>.</summary>
    public static Dictionary<string, string> Environment(string collection, TimeSpan delay) => new()
    {
        ["DOTNET_STARTUP_HOOKS"] = typeof(SlowStore).Assembly.Location,
        [Variable] = $"{collection}={(long)delay.TotalMilliseconds}",
    };

    internal static void Install(string spec)
    {
        var parts = spec.Split('=');
        var (collection, delay) = (parts[0], TimeSpan.FromMilliseconds(long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)));
        // Store folders are under DATA/collections/NAME/ (one per store generation).
        var part = $"{Path.DirectorySeparatorChar}collections{Path.DirectorySeparatorChar}{collection}{Path.DirectorySeparatorChar}";
        CollectionStore.DeviceHook = (storeDirectory, device) =>
            Path.GetFullPath(storeDirectory).Contains(part, StringComparison.Ordinal) ? new SlowDevice(device, delay) : device;
    }
}
