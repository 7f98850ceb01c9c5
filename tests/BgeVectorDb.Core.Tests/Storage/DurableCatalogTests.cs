using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Reranking;
using BgeVectorDb.Core.Search;
using BgeVectorDb.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary>Checkpoints, recovery and the corruption policy on a real data folder (FasterLog + FasterKV).</summary>
public sealed class DurableCatalogTests : IDisposable
{
    private const int Dim = 8;
    internal static readonly StorageOptions NoTimers = new() { CheckpointIntervalSeconds = 0, CheckpointEveryWrites = 0, CheckpointOnShutdown = false };
    private readonly TempDirectory _dir = new("bgevdb-store", create: false);

    public void Dispose() => _dir.Dispose();

    internal static CollectionCatalog OpenCatalog(string dir, StorageOptions? storage = null, ILogger? logger = null) =>
        CollectionCatalog.Open(dir, FixedModelProvider.None, new EngineLimits(), logger ?? NullLogger.Instance, storage ?? NoTimers);

    internal static Document Doc(int i, int seed = 0)
    {
        var rng = new Random(i * 7919 + seed);
        var v = new float[Dim];
        for (var d = 0; d < Dim; d++) v[d] = (float)(rng.NextDouble() * 2 - 1);
        return new Document($"doc-{i}", $"text {i} seed {seed} ünï", new Dictionary<string, MetadataValue>
        {
            ["n"] = MetadataValue.Of((long)i),
            ["tag"] = MetadataValue.Of(i % 2 == 0 ? "even" : "odd"),
        }, v);
    }

    private static float[] Query(int q)
    {
        var rng = new Random(1000 + q);
        return Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    private static string Results(Collection c) => string.Join("\n", Enumerable.Range(0, 10).Select(q =>
        string.Join(",", c.SearchByVector(Query(q), new SearchOptions(10)).Hits.Select(h => $"{h.Id}:{h.Score:F6}"))));

    /// <summary>Upserts documents <paramref name="from"/> to <paramref name="to"/> in batches of 50; <paramref name="pad"/>
    /// is appended to each text.</summary>
    internal static async Task Fill(Collection c, int from, int to, int seed = 0, string? pad = null)
    {
        for (var i = from; i < to; i += 50)
        {
            await c.UpsertAsync(Enumerable.Range(i, Math.Min(50, to - i)).Select(j => Doc(j, seed)).Select(d => pad is null ? d : d with { Text = d.Text + pad }).ToArray());
        }
    }

    private string CollectionDir(string name) => Path.Combine(_dir.Path, "collections", name);

    [Fact]
    public async Task Checkpoint_then_reopen_gives_identical_search_results_and_replays_nothing()
    {
        string before;
        await using (var catalog = OpenCatalog(_dir.Path))
        {
            var c = catalog.Create(new CollectionSpec("a", "none", Dim));
            await Fill(c, 0, 400);
            await c.DeleteAsync(["doc-3", "doc-10"]);
            await Fill(c, 395, 420, seed: 1);   // replaces 395..399
            var result = await c.CheckpointAsync();
            Assert.NotNull(result);
            Assert.Equal(418, result.Documents);
            Assert.Equal(c.Wal!.TailPosition, result.WalPosition);
            before = Results(c);
        }
        var logger = new ListLogger();
        await using (var catalog = OpenCatalog(_dir.Path, logger: logger))
        {
            var c = catalog.Get("a");
            Assert.Equal(418, c.Count);
            Assert.Equal(before, Results(c));
            Assert.Contains(logger.Lines, l => l.Contains("loaded checkpoint 1", StringComparison.Ordinal));
            Assert.Contains(logger.Lines, l => l.Contains("replayed 0 log entries", StringComparison.Ordinal));
            var (found, missing) = c.Get(["doc-399", "doc-3", "doc-0"], new ReturnFields(true, true, true));
            Assert.Equal(["doc-3"], missing);
            Assert.Equal(Doc(399, 1).Text, found[0].Text);
            Assert.Equal(Doc(0).Metadata.OrderBy(p => p.Key), found[1].Metadata.OrderBy(p => p.Key));
        }
    }

    [Fact]
    public async Task Writes_after_a_checkpoint_are_replayed_from_the_wal_and_later_checkpoints_are_incremental()
    {
        await using (var catalog = OpenCatalog(_dir.Path))
        {
            var c = catalog.Create(new CollectionSpec("a", "none", Dim));
            await Fill(c, 0, 300);
            var first = await c.CheckpointAsync();
            await Fill(c, 300, 320);
            await c.DeleteAsync(["doc-5"]);
            var second = await c.CheckpointAsync();
            Assert.True(second!.RecordsWritten < first!.RecordsWritten, $"{second.RecordsWritten} records vs {first.RecordsWritten}");
            await Fill(c, 320, 350);
            await c.DeleteAsync(["doc-6"]);
        }
        var logger = new ListLogger();
        await using var reopened = OpenCatalog(_dir.Path, logger: logger);
        var r = reopened.Get("a");
        Assert.Equal(348, r.Count);
        Assert.Contains(logger.Lines, l => l.Contains("loaded checkpoint 2", StringComparison.Ordinal));
        Assert.Contains(logger.Lines, l => l.Contains("replayed 2 log entries", StringComparison.Ordinal));
        Assert.Equal(["doc-5", "doc-6"], r.Get(["doc-5", "doc-6", "doc-349"], ReturnFields.Default).Missing);
    }

    private static string Graph(Collection c)
    {
        var state = c.Index.ExportState();
        var sb = new System.Text.StringBuilder($"{state}\n");
        for (var id = 0; id < state.NodeCapacity; id++)
        {
            if (!c.Index.TryExportNode(id, out var n)) continue;
            sb.Append(id).Append(n.Deleted ? " D " : " L ").Append(string.Join(",", n.Vector.Select(x => BitConverter.SingleToInt32Bits(x))));
            foreach (var level in n.Links) sb.Append(" | ").Append(string.Join(",", level));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    [Fact]
    public async Task Hnsw_graph_survives_incremental_checkpoints_with_deletes_and_reopens_link_for_link_without_rebuild()
    {
        string graph, results;
        await using (var catalog = OpenCatalog(_dir.Path))
        {
            var c = catalog.Create(new CollectionSpec("h", "none", Dim));
            Assert.Equal("hnsw", c.Index.Kind);
            await Fill(c, 0, 600);
            await c.CheckpointAsync();
            await c.DeleteAsync(Enumerable.Range(0, 600).Where(i => i % 7 == 0).Select(i => $"doc-{i}").ToArray());   // neighbour repair
            await Fill(c, 590, 700, seed: 3);
            var second = await c.CheckpointAsync();
            Assert.True(second!.RecordsWritten < 700, $"incremental: {second.RecordsWritten} records");
            graph = Graph(c);
            results = Results(c);
        }
        await using var reopened = OpenCatalog(_dir.Path);
        var r = reopened.Get("h");
        Assert.Equal(graph, Graph(r));
        Assert.Equal(results, Results(r));
    }

    [Fact]
    public async Task Graceful_close_checkpoints_so_restart_replays_nothing()
    {
        await using (var catalog = OpenCatalog(_dir.Path, NoTimers with { CheckpointOnShutdown = true }))
        {
            var c = catalog.Create(new CollectionSpec("a", "none", Dim));
            await Fill(c, 0, 120);
        }
        var logger = new ListLogger();
        await using var reopened = OpenCatalog(_dir.Path, logger: logger);
        Assert.Equal(120, reopened.Get("a").Count);
        Assert.Contains(logger.Lines, l => l.Contains("replayed 0 log entries", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Write_count_trigger_checkpoints_and_a_due_store_rewrite_truncates_the_wal_behind_the_older_generation()
    {
        // A threshold of one byte: a checkpoint rewrites the store once the WAL since the older generation outgrew it.
        await using var catalog = OpenCatalog(_dir.Path, NoTimers with { CheckpointEveryWrites = 100, StoreRewriteWalBytes = 1 });
        var c = catalog.Create(new CollectionSpec("a", "none", Dim));
        var begin = c.Wal!.BeginPosition;
        for (var round = 0; round < 8; round++)
        {
            await Fill(c, 0, 100, seed: round);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (c.CheckpointSequence < round + 1 && DateTime.UtcNow < deadline) await Task.Delay(50);
        }
        Assert.True(c.CheckpointSequence >= 7, $"sequence {c.CheckpointSequence}");
        Assert.True(c.Wal.BeginPosition > begin, "WAL was truncated");
        // The current generation and its fallback, newest two checkpoints at most each.
        var generations = CollectionLayout.Generations(CollectionDir("a"));
        Assert.Equal(2, generations.Count);
        Assert.True(generations[0] >= 2, $"generation {generations[0]}");
        foreach (var g in generations)
        {
            Assert.InRange(CollectionLayout.Manifests(CollectionDir("a"), g).Count, 1, 2);
        }
    }

    [Fact]
    public async Task Corrupt_newest_checkpoint_falls_back_to_the_previous_one_without_losing_writes()
    {
        await using (var catalog = OpenCatalog(_dir.Path))
        {
            var c = catalog.Create(new CollectionSpec("a", "none", Dim));
            await Fill(c, 0, 100);
            await c.CheckpointAsync();
            await Fill(c, 100, 200);
            await c.CheckpointAsync();
            await Fill(c, 200, 210);
        }
        var checkpoints = Path.Combine(CollectionDir("a"), "checkpoints");
        var newest = CheckpointManifest.ReadVerified(CheckpointManifest.List(checkpoints)[0].Path);
        var victim = Path.Combine(checkpoints, newest.Files.Keys.First(k => k.StartsWith("cpr-checkpoints", StringComparison.Ordinal)));
        var bytes = File.ReadAllBytes(victim);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(victim, bytes);

        var logger = new ListLogger();
        await using var reopened = OpenCatalog(_dir.Path, logger: logger);
        var r = reopened.Get("a");
        Assert.Equal(210, r.Count);
        Assert.Contains(logger.Lines, l => l.Contains("is unusable", StringComparison.Ordinal) && l.Contains("corrupt", StringComparison.Ordinal));
        Assert.Contains(logger.Lines, l => l.Contains("loaded checkpoint 1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task No_usable_checkpoint_over_a_truncated_wal_refuses_only_that_collection()
    {
        await using (var catalog = OpenCatalog(_dir.Path, NoTimers with { StoreRewriteWalBytes = 1 }))
        {
            var c = catalog.Create(new CollectionSpec("a", "none", Dim));
            await Fill(c, 0, 100);
            await c.CheckpointAsync();   // generation 1
            await Fill(c, 0, 150, seed: 1);
            await Fill(c, 0, 150, seed: 2);
            await c.CheckpointAsync();   // generation 2: the WAL is now truncated behind generation 1
            Assert.True(((FasterLogWal)c.Wal!).Truncated);
            await Fill(catalog.Create(new CollectionSpec("b", "none", Dim)), 0, 10);
        }
        // Every manifest of every generation damaged.
        var manifests = Directory.GetFiles(CollectionDir("a"), "manifest-*", SearchOption.AllDirectories);
        Assert.Equal(2, manifests.Length);
        foreach (var path in manifests)
        {
            var bytes = File.ReadAllBytes(path);
            bytes[^2] ^= 0x01;
            File.WriteAllBytes(path, bytes);
        }
        var logger = new ListLogger();
        await using (var reopened = OpenCatalog(_dir.Path, logger: logger))
        {
            Assert.Equal(10, reopened.Get("b").Count);
            var ex = Assert.Throws<EngineException>(() => reopened.Get("a"));
            Assert.Equal(EngineErrorKind.DataLoss, ex.Kind);
            Assert.Contains("could not be recovered", ex.Message);
            Assert.Contains("a", reopened.Failed.Keys);
            Assert.Equal(EngineErrorKind.AlreadyExists, Assert.Throws<EngineException>(() => reopened.Create(new CollectionSpec("a", "none", Dim))).Kind);
        }
        // Still refused (not dropped) on the next start; deleting it removes its files.
        await using (var again = OpenCatalog(_dir.Path))
        {
            Assert.Contains("a", again.Failed.Keys);
            Assert.True(Directory.Exists(CollectionDir("a")));
            await again.DeleteAsync("a");
            Assert.False(Directory.Exists(CollectionDir("a")));
            Assert.Empty(again.Failed);
        }
    }

    [Fact]
    public async Task The_checkpoint_timeout_comes_from_storage_options_for_new_recovered_and_reopened_stores()
    {
        var storage = NoTimers with { CheckpointTimeoutSeconds = 7 };
        await using (var catalog = OpenCatalog(_dir.Path, storage))
        {
            var c = catalog.Create(new CollectionSpec("t", "none", Dim));
            Assert.Equal(TimeSpan.FromSeconds(7), c.CheckpointStoreTimeout);
            await Fill(c, 0, 10);
            await c.CheckpointAsync();
        }
        await using var reopened = OpenCatalog(_dir.Path, storage with { CheckpointTimeoutSeconds = 9 });
        Assert.Equal(TimeSpan.FromSeconds(9), reopened.Get("t").CheckpointStoreTimeout);
        await using var fresh = OpenCatalog(Path.Combine(_dir.Path, "other"));
        Assert.Equal(TimeSpan.FromMinutes(10), fresh.Create(new CollectionSpec("d", "none", Dim)).CheckpointStoreTimeout);
    }

    [Fact]
    public async Task Statistics_report_the_checkpoint_position_and_every_file_of_the_collection()
    {
        await using var catalog = OpenCatalog(_dir.Path);
        var c = catalog.Create(new CollectionSpec("s", "none", Dim));
        await Fill(c, 0, 100);
        var before = c.GetStatistics();
        Assert.Equal(0, before.CheckpointWalPosition);
        var checkpoint = await c.CheckpointAsync();
        await Fill(c, 100, 120);
        var stats = c.GetStatistics();
        Assert.Equal(checkpoint!.WalPosition, stats.CheckpointWalPosition);
        Assert.True(stats.WalTail > stats.CheckpointWalPosition, $"tail {stats.WalTail}, checkpoint {stats.CheckpointWalPosition}");
        // FASTER may still be writing in the background (page flushes): compare against a folder size that was the
        // same just before and just after the statistics were read. FASTER replaces files (e.g. wal/log-commits) as
        // it goes: a file listed and gone before its size is read makes that reading unstable (-1), not an error.
        static long FolderBytes(string dir)
        {
            try
            {
                return Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            }
            catch (FileNotFoundException)
            {
                return -1;
            }
        }
        long files = -1;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var sizeBefore = FolderBytes(CollectionDir("s"));
            stats = c.GetStatistics();
            if (sizeBefore >= 0 && FolderBytes(CollectionDir("s")) == sizeBefore)
            {
                files = sizeBefore;
                break;
            }
            await Task.Delay(20);
        }
        var walFiles = FolderBytes(Path.Combine(CollectionDir("s"), "wal"));
        Assert.True(files >= 0 && walFiles >= 0, "the collection folder never held still for two readings");
        Assert.Equal(files, stats.DiskBytes);
        Assert.True(stats.DiskBytes > walFiles, $"disk {stats.DiskBytes} must count the store and checkpoints, not only the WAL ({walFiles})");
        Assert.Equal(c.Wal!.SizeBytes, stats.WalBytes);
    }

    [Fact]
    public async Task A_flipped_bit_in_the_store_log_is_rebuilt_from_the_wal_and_every_acked_document_is_back()
    {
        await using (var catalog = OpenCatalog(_dir.Path))
        {
            var c = catalog.Create(new CollectionSpec("bit", "none", Dim));
            await Fill(c, 0, 200);
            await c.CheckpointAsync();
            await Fill(c, 200, 300);
            await c.CheckpointAsync();
            await c.CheckpointAsync();   // both kept checkpoints share the store records of the first
            await Fill(c, 300, 310);
        }
        var log = Directory.GetFiles(Path.Combine(CollectionDir("bit"), "store"), "hlog.log*").OrderBy(f => f, StringComparer.Ordinal).First();
        var bytes = File.ReadAllBytes(log);
        var marker = System.Text.Encoding.UTF8.GetBytes("text 57 seed 0");
        var at = bytes.AsSpan().LastIndexOf(marker);   // the latest version of the record (neighbours are rewritten)
        Assert.True(at > 0, "document 57's record is in the first store segment");
        bytes[at + 3] ^= 0x04;   // one bit of one record's text
        File.WriteAllBytes(log, bytes);

        var logger = new ListLogger();
        await using var reopened = OpenCatalog(_dir.Path, logger: logger);
        Assert.Empty(reopened.Failed);
        var r = reopened.Get("bit");
        Assert.Equal(310, r.Count);
        var (found, missing) = r.Get(Enumerable.Range(0, 310).Select(i => $"doc-{i}").ToArray(), new ReturnFields(true, true, false));
        Assert.Empty(missing);
        Assert.Equal(Doc(57).Text, found[57].Text);
        Assert.True(logger.Lines.Any(l => l.Contains("corrupt", StringComparison.Ordinal)), string.Join("\n", logger.Lines));
    }

    [Fact]
    public async Task Deleting_a_collection_removes_its_files_and_the_catalog_entry()
    {
        await using (var catalog = OpenCatalog(_dir.Path))
        {
            var c = catalog.Create(new CollectionSpec("gone", "none", Dim));
            await Fill(c, 0, 20);
            await c.CheckpointAsync();
            Assert.True(Directory.Exists(CollectionDir("gone")));
            await catalog.DeleteAsync("gone");
            Assert.False(Directory.Exists(CollectionDir("gone")));
        }
        await using var reopened = OpenCatalog(_dir.Path);
        Assert.Empty(reopened.List());
    }

}

/// <summary>Collects formatted log lines.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines) return _lines.ToArray();
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines) _lines.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
