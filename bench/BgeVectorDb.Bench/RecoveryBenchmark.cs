using System.Diagnostics;
using System.Globalization;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Search;
using BgeVectorDb.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using static BgeVectorDb.Bench.StorageBenchSupport;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Bench;

/// <summary>
/// <c>recovery</c>: builds a durable collection of N vectors (closed gracefully, so a checkpoint covers
/// everything), reports bytes on disk per vector, then reopens it in fresh child processes (one per run)
/// and reports the time to recover and the memory after it (working set, GC heap).
/// </summary>
internal static class RecoveryBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args is ["--help"] or ["-h"])
        {
            Console.WriteLine("recovery [--n 100000] [--dim 384] [--batch 1000] [--writers 4] [--runs 3] [--dir bench/out/recovery-N] [--rebuild 0|1]");
            return 0;
        }
        var o = Options(args);
        if (o.TryGetValue("open-only", out var openDir)) return await OpenOnceAsync(openDir);
        int n = Int(o, "n", 100_000), dim = Int(o, "dim", 384), batch = Int(o, "batch", 1000), writers = Int(o, "writers", 4), runs = Int(o, "runs", 3);
        var dir = o.TryGetValue("dir", out var d) ? Path.GetFullPath(d) : Path.Combine(BenchPaths.Out, $"recovery-{n}x{dim}");
        Console.WriteLine($"recovery ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC): {n} vectors x {dim} dims, {Environment.ProcessorCount} cores, folder {dir}");
        if (Int(o, "rebuild", 0) == 1 && Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        if (!File.Exists(Path.Combine(dir, "catalog.json")))
        {
            var sw = Stopwatch.StartNew();
            await using (var catalog = CollectionCatalog.Open(dir, FixedModelProvider.None, new EngineLimits(), NullLogger.Instance,
                new StorageOptions { CheckpointIntervalSeconds = 0, CheckpointEveryWrites = 0, CheckpointOnShutdown = true }))
            {
                var c = catalog.Create(new CollectionSpec("bench", "none", dim));
                for (var start = 0; start < n; start += 50_000)
                {
                    await IngestAsync(c, Batches(Math.Min(50_000, n - start), dim, batch, seed: start).Select(b => b.Select(x => x with { Id = "s" + start + "-" + x.Id }).ToArray()).ToList(), writers);
                    Console.WriteLine($"  built {Math.Min(n, start + 50_000)} / {n} ({sw.Elapsed.TotalSeconds:F0} s)");
                }
                Console.WriteLine($"  index kind: {c.GetStatistics().IndexKind}");
            }
            Console.WriteLine($"  build + graceful close (checkpoint): {sw.Elapsed.TotalSeconds:F1} s");
        }
        var collectionDir = Path.Combine(dir, "collections", "bench");
        long Size(string sub) => sub == CollectionLayout.Wal
            ? CollectionStore.DirectorySize(Path.Combine(collectionDir, sub))
            : CollectionLayout.GenerationsBytes(collectionDir, sub);
        var total = CollectionStore.DirectorySize(collectionDir);
        Console.WriteLine($"  on disk: {Mb(total)} = {total / (double)n:F0} bytes/vector (raw vector {dim * 4} bytes); store {Mb(Size(CollectionLayout.Store))}, checkpoints {Mb(Size(CollectionLayout.Checkpoints))}, wal {Mb(Size(CollectionLayout.Wal))} (generations {string.Join(",", CollectionLayout.Generations(collectionDir))})");

        var times = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var psi = Environment.ProcessPath is { } exe && !Path.GetFileNameWithoutExtension(exe).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
                ? new ProcessStartInfo(exe) : new ProcessStartInfo("dotnet") { ArgumentList = { typeof(RecoveryBenchmark).Assembly.Location } };
            foreach (var a in new[] { "recovery", "--open-only", dir }) psi.ArgumentList.Add(a);
            psi.RedirectStandardOutput = true;
            using var child = Process.Start(psi)!;
            var output = await child.StandardOutput.ReadToEndAsync();
            await child.WaitForExitAsync();
            Console.Write(output.Replace("\n", "\n  ", StringComparison.Ordinal).Insert(0, "  ").TrimEnd(' '));
            var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("open ", StringComparison.Ordinal));
            if (line is not null) times.Add(double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture));
        }
        if (times.Count > 0) Console.WriteLine($"  median recovery time: {Median(times):F2} s over {times.Count} fresh processes");
        return 0;
    }

    private static async Task<int> OpenOnceAsync(string dir)
    {
        var baseline = Environment.WorkingSet;
        var sw = Stopwatch.StartNew();
        await using var catalog = CollectionCatalog.Open(dir, FixedModelProvider.None, new EngineLimits(), new LineLogger(),
            new StorageOptions { CheckpointIntervalSeconds = 0, CheckpointEveryWrites = 0, CheckpointOnShutdown = false });
        var c = catalog.Get("bench");
        var elapsed = sw.Elapsed.TotalSeconds;
        var hits = c.SearchByVector(Enumerable.Repeat(0.05f, c.Config.Dimension).ToArray(), new SearchOptions(10)).Hits.Count;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"open {elapsed:F2} s: {c.Count} documents, index {c.GetStatistics().IndexKind}, probe search {hits} hits; working set {Mb(process.WorkingSet64)} (process start {Mb(baseline)}), GC heap {Mb(GC.GetTotalMemory(false))}, index {Mb(c.GetStatistics().MemoryBytes)}"));
        return 0;
    }

    /// <summary>Prints the catalog's recovery log lines (progress) with the elapsed time.</summary>
    private sealed class LineLogger : Microsoft.Extensions.Logging.ILogger
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Information;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) =>
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds:F2} s] {formatter(state, exception)}"));
    }
}
