using System.Diagnostics;
using System.Globalization;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using static BgeVectorDb.Bench.StorageBenchSupport;

namespace BgeVectorDb.Bench;

/// <summary>
/// <c>generations</c>: what a store rewrite (a new store generation, <c>Checkpointer.Generations.cs</c>) costs while
/// writers keep writing. Ingests N vectors, then writers overwrite random documents without pause while a checkpoint
/// runs every couple of seconds (threshold 1 byte: a rewrite whenever the WAL since the fallback outgrew the store);
/// prints each checkpoint (incremental or rewrite: elapsed, the last cut's write hold, records), the write latency
/// (p50/p99/max) of the upserts that overlapped a rewrite against those that overlapped an incremental checkpoint and
/// those that overlapped none, and the disk bytes of the WAL and the stores.
/// </summary>
internal static class GenerationsBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args is ["--help"] or ["-h"])
        {
            Console.WriteLine("generations [--docs 100000] [--dim 384] [--batch 100] [--writers 4] [--seconds 60]");
            return 0;
        }
        var o = Options(args);
        int docs = Int(o, "docs", 100_000), dim = Int(o, "dim", 384), batch = Int(o, "batch", 100), writers = Int(o, "writers", 4), seconds = Int(o, "seconds", 60);
        var dir = Path.Combine(Path.GetTempPath(), "bgevdb-bench-generations-" + Guid.NewGuid().ToString("N"));
        Console.WriteLine($"generations ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC): {docs} docs x {dim} dims, {writers} writers of {batch}-document upserts for {seconds} s, {Environment.ProcessorCount} cores");
        try
        {
            var storage = new StorageOptions { CheckpointIntervalSeconds = 0, CheckpointEveryWrites = 0, CheckpointOnShutdown = false, StoreRewriteWalBytes = 1 };
            await using var catalog = CollectionCatalog.Open(dir, FixedModelProvider.None, new EngineLimits(), NullLogger.Instance, storage);
            var c = catalog.Create(new CollectionSpec("bench", "none", dim));
            var sw = Stopwatch.StartNew();
            await IngestAsync(c, Batches(docs, dim, batch, seed: 1), writers);
            Console.WriteLine($"  ingest: {docs / sw.Elapsed.TotalSeconds:F0} docs/s");

            // (start, end, kind) of every checkpoint; the writers' upserts as (start, end).
            var checkpoints = new List<(long Start, long End, bool Rewrite)>();
            var upserts = new List<(long Start, long End)>();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
            var load = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                var rng = new Random(100 + w);
                var mine = new List<(long, long)>();
                for (var round = 0; !stop.IsCancellationRequested; round++)
                {
                    var from = rng.Next(docs / batch) * batch;
                    var b = Batches(batch, dim, batch, seed: rng.Next())[0].Select((d, j) => d with { Id = $"doc-{from + j}" }).ToArray();
                    var t0 = Stopwatch.GetTimestamp();
                    await c.UpsertAsync(b);
                    mine.Add((t0, Stopwatch.GetTimestamp()));
                }
                lock (upserts) upserts.AddRange(mine);
            })).ToArray();
            Console.WriteLine($"  {"checkpoint",-11} {"kind",-11} {"elapsed ms",10} {"held ms",8} {"records",8}");
            while (!stop.IsCancellationRequested)
            {
                var t0 = Stopwatch.GetTimestamp();
                var r = await c.CheckpointAsync();
                var t1 = Stopwatch.GetTimestamp();
                if (r is null) break;
                checkpoints.Add((t0, t1, r.Generation is not null));
                Console.WriteLine($"  {r.Sequence,-11} {(r.Generation is { } g ? $"rewrite g{g}" : "incremental"),-11} {r.Elapsed.TotalMilliseconds,10:F0} {r.WritesHeld.TotalMilliseconds,8:F0} {r.RecordsWritten,8}");
                try
                {
                    await Task.Delay(2000, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
            await Task.WhenAll(load);

            string Latency(Func<(long Start, long End), bool> which)
            {
                var ms = upserts.Where(which).Select(u => Stopwatch.GetElapsedTime(u.Start, u.End).TotalMilliseconds).Order().ToArray();
                if (ms.Length == 0) return "none";
                double P(double q) => ms[Math.Min(ms.Length - 1, (int)(q * ms.Length))];
                return string.Create(CultureInfo.InvariantCulture, $"{ms.Length,6} upserts  p50 {P(0.5),7:F1}  p99 {P(0.99),7:F1}  max {ms[^1],7:F1} ms");
            }
            bool Overlaps((long Start, long End) u, bool rewrite) => checkpoints.Any(k => k.Rewrite == rewrite && u.Start < k.End && u.End > k.Start);
            Console.WriteLine($"  write latency during rewrites:     {Latency(u => Overlaps(u, true))}");
            Console.WriteLine($"  write latency during incrementals: {Latency(u => !Overlaps(u, true) && Overlaps(u, false))}");
            Console.WriteLine($"  write latency otherwise:           {Latency(u => !Overlaps(u, true) && !Overlaps(u, false))}");
            var collectionDir = Path.Combine(dir, "collections", "bench");
            var stores = CollectionLayout.GenerationsBytes(collectionDir, CollectionLayout.Store);
            Console.WriteLine($"  on disk: WAL {Mb(CollectionStore.DirectorySize(Path.Combine(collectionDir, CollectionLayout.Wal)))}, stores {Mb(stores)} " +
                $"(generations {string.Join(",", CollectionLayout.Generations(collectionDir))}), whole folder {Mb(CollectionLayout.DiskBytes(collectionDir))}; {c.Count} documents");
            return 0;
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
