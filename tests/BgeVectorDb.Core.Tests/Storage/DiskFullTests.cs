using System.Diagnostics;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Primitives;
using Xunit.Abstractions;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary>A data folder on a small tmpfs that fills up: writes fail with RESOURCE_EXHAUSTED naming the disk,
/// resume once space is freed, and nothing acked is lost. Needs root (mount); without it the test says so and passes.</summary>
public sealed class DiskFullTests : IDisposable
{
    private const int Dim = 8;
    private readonly TmpfsMount _mount = new("bgevdb-diskfull");
    private readonly ITestOutputHelper _output;

    public DiskFullTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose() => _mount.Dispose();

    private static Document[] Batch(int from, int count, string text) =>
        Enumerable.Range(from, count).Select(i => DurableCatalogTests.Doc(i) with { Text = $"{i} {text}" }).ToArray();

    /// <summary>The WAL had room for every write; the disk fills just before a checkpoint (and a snapshot), so FASTER's
    /// checkpoint files are what runs out of space. Both calls end within a bounded time with RESOURCE_EXHAUSTED naming
    /// the disk (no hang, no bare IOException), reads go on, a later checkpoint and snapshot succeed once space returns,
    /// and every acked write survives a reopen.
    /// FASTER 2.6.5 never completes a checkpoint whose writes fail, so the store bounds the wait and the collection
    /// reopens its store from the last good checkpoint (issue 11 item 2, checkpoint/snapshot part).</summary>
    [Fact]
    public async Task A_checkpoint_and_a_snapshot_that_run_out_of_space_fail_with_resource_exhausted_instead_of_hanging()
    {
        // 48 MiB: once space returns, two kept checkpoints (a 4 MiB hash index each) and a snapshot copy must fit.
        if (!_mount.TryMount("48m", out var why))
        {
            _output.WriteLine($"SKIPPED: cannot mount a tmpfs ({why}); run as root to exercise a full disk");
            return;
        }
        var data = Path.Combine(_mount.Path, "data");
        var text = new string('y', 4000);
        var ids = new List<string>();
        var bound = TimeSpan.FromSeconds(8);
        await using (var catalog = DurableCatalogTests.OpenCatalog(data))
        {
            var c = catalog.Create(new CollectionSpec("ckpt", "none", Dim));
            for (var b = 0; b < 30; b++)
            {
                var batch = Batch(b * 20, 20, text);
                await c.UpsertAsync(batch);
                ids.AddRange(batch.Select(d => d.Id));
            }
            Assert.Null(c.Wal!.Broken);
            var filler = Path.Combine(_mount.Path, "filler");
            var free = new DriveInfo(_mount.Path).AvailableFreeSpace;
            File.WriteAllBytes(filler, new byte[Math.Max(0, free - (256 << 10))]);   // leave 256 KiB: less than the checkpoint needs

            var started = Stopwatch.GetTimestamp();
            var checkpoint = await Assert.ThrowsAsync<EngineException>(() => Task.Run(() => c.CheckpointAsync()).WaitAsync(bound));
            _output.WriteLine($"checkpoint failed after {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms: {checkpoint.Message}");
            Assert.Equal(EngineErrorKind.ResourceExhausted, checkpoint.Kind);
            Assert.Contains("disk", checkpoint.Message, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(data, checkpoint.Message, StringComparison.Ordinal);
            Assert.Equal(0, c.CheckpointSequence);

            started = Stopwatch.GetTimestamp();
            var snapshot = await Assert.ThrowsAsync<EngineException>(() => Task.Run(() => catalog.CreateSnapshotAsync("ckpt")).WaitAsync(bound));
            _output.WriteLine($"snapshot failed after {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms: {snapshot.Message}");
            Assert.Equal(EngineErrorKind.ResourceExhausted, snapshot.Kind);
            Assert.Contains("disk", snapshot.Message, StringComparison.OrdinalIgnoreCase);

            // Reads are served while the disk is full.
            Assert.Equal(ids.Count, c.Count);
            Assert.Empty(c.Get(ids.ToArray(), ReturnFields.Default).Missing);

            File.Delete(filler);   // space returns: a checkpoint and a snapshot succeed
            var result = await c.CheckpointAsync().WaitAsync(bound);
            Assert.NotNull(result);
            Assert.Equal(ids.Count, result.Documents);
            Assert.Equal(1, c.CheckpointSequence);
            var (folder, descriptor) = await catalog.CreateSnapshotAsync("ckpt").WaitAsync(bound);
            Assert.Equal(ids.Count, descriptor.Documents);
            Assert.True(Directory.Exists(folder));
            var after = Batch(100_000, 20, text);
            await c.UpsertAsync(after);
            ids.AddRange(after.Select(d => d.Id));
        }
        await using var reopened = DurableCatalogTests.OpenCatalog(data);
        var r = reopened.Get("ckpt");
        Assert.Empty(r.Get(ids.ToArray(), ReturnFields.Default).Missing);
        Assert.Equal(ids.Count, r.Count);
    }

    [Fact]
    public async Task Writes_on_a_full_disk_fail_with_resource_exhausted_and_resume_when_space_returns_without_losing_acked_writes()
    {
        if (!_mount.TryMount("16m", out var why))
        {
            _output.WriteLine($"SKIPPED: cannot mount a tmpfs ({why}); run as root to exercise a full disk");
            return;
        }
        var data = Path.Combine(_mount.Path, "data");
        var text = new string('x', 4000);
        var acked = new HashSet<string>(StringComparer.Ordinal);
        await using (var catalog = DurableCatalogTests.OpenCatalog(data))
        {
            var c = catalog.Create(new CollectionSpec("full", "none", Dim));
            var filler = Path.Combine(_mount.Path, "filler");
            var free = new DriveInfo(_mount.Path).AvailableFreeSpace;
            File.WriteAllBytes(filler, new byte[Math.Max(0, free - (2 << 20))]);   // leave about 2 MiB
            EngineException? full = null;
            for (var b = 0; b < 400 && full is null; b++)
            {
                try
                {
                    var batch = Batch(b * 20, 20, text);
                    await c.UpsertAsync(batch);
                    foreach (var d in batch) acked.Add(d.Id);
                }
                catch (EngineException ex)
                {
                    full = ex;
                }
            }
            Assert.NotNull(full);
            Assert.Equal(EngineErrorKind.ResourceExhausted, full.Kind);
            Assert.Contains("disk", full.Message, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(data, full.Message, StringComparison.Ordinal);
            Assert.Equal(acked.Count, c.Count);

            File.Delete(filler);   // space returns: writes go on
            var after = Batch(100_000, 20, text);
            await c.UpsertAsync(after);
            foreach (var d in after) acked.Add(d.Id);
            Assert.Equal(acked.Count, c.Count);
        }
        await using var reopened = DurableCatalogTests.OpenCatalog(data);
        var r = reopened.Get("full");
        Assert.Empty(r.Get(acked.ToArray(), ReturnFields.Default).Missing);
        Assert.Equal(acked.Count, r.Count);
    }
}
