using System.Diagnostics;
using System.Globalization;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using static BgeVectorDb.Bench.StorageBenchSupport;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Bench;

/// <summary>
/// <c>durability</c>: ingest throughput of vectors (no model) into a durable collection (every batch
/// committed to the WAL before its ack, concurrent writers sharing commits) next to the same ingest into
/// an in-memory collection (durability off), alternating per run; prints medians and their ratio, and
/// how many WAL commits served how many batches.
/// </summary>
internal static class DurabilityBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args is ["--help"] or ["-h"])
        {
            Console.WriteLine("durability [--docs 20000] [--dim 384] [--batch 100] [--writers 8] [--runs 3]");
            return 0;
        }
        var o = Options(args);
        int docs = Int(o, "docs", 20_000), dim = Int(o, "dim", 384), batch = Int(o, "batch", 100), writers = Int(o, "writers", 8), runs = Int(o, "runs", 3);
        var batches = Batches(docs, dim, batch, seed: 7);
        var storage = new StorageOptions { CheckpointIntervalSeconds = 0, CheckpointEveryWrites = 0, CheckpointOnShutdown = false };
        var durable = new List<double>();
        var memory = new List<double>();
        var commits = new List<string>();
        Console.WriteLine($"durability ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC): {docs} docs x {dim} dims, batches of {batch}, {writers} concurrent writers, {runs} runs, {Environment.ProcessorCount} cores");
        for (var run = 0; run < runs; run++)
        {
            foreach (var isDurable in run % 2 == 0 ? new[] { true, false } : [false, true])
            {
                var dir = isDurable ? Path.Combine(Path.GetTempPath(), "bgevdb-bench-durability-" + Guid.NewGuid().ToString("N")) : null;
                try
                {
                    await using var catalog = CollectionCatalog.Open(dir, FixedModelProvider.None, new EngineLimits(), NullLogger.Instance, storage);
                    var c = catalog.Create(new CollectionSpec("bench", "none", dim));
                    var sw = Stopwatch.StartNew();
                    await IngestAsync(c, batches, writers);
                    var rate = docs / sw.Elapsed.TotalSeconds;
                    (isDurable ? durable : memory).Add(rate);
                    var extra = isDurable ? $", {c.Wal!.CommitCount} WAL commits for {batches.Count} batches" : "";
                    if (isDurable) commits.Add($"{c.Wal!.CommitCount}/{batches.Count}");
                    Console.WriteLine($"  run {run + 1} {(isDurable ? "durable  " : "in-memory")}: {rate,10:F0} docs/s{extra}");
                }
                finally
                {
                    if (dir is not null && Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
                }
            }
        }
        var (d, m) = (Median(durable), Median(memory));
        Console.WriteLine($"  median durable (WAL, group commit): {d:F0} docs/s; median in-memory (durability off): {m:F0} docs/s");
        Console.WriteLine($"  ratio durable/in-memory: {(d / m).ToString("F3", CultureInfo.InvariantCulture)}; WAL commits/batches per durable run: {string.Join(", ", commits)}");
        return 0;
    }
}
