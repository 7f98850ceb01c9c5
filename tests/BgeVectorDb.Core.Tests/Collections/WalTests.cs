using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Tests.Collections;

public sealed class WalTests : IDisposable
{
    private readonly TempDirectory _dir = new("bgevdb-wal", create: false);

    public void Dispose() => _dir.Dispose();

    private static StoredDocument Sample(string id) => new(id, "text of " + id + " — ünïcødé 北京",
        new Dictionary<string, MetadataValue>
        {
            ["s"] = MetadataValue.Of("v"),
            ["i"] = MetadataValue.Of(-42L),
            ["d"] = MetadataValue.Of(3.25),
            ["b"] = MetadataValue.Of(true),
            ["l"] = MetadataValue.Of(["x", "y"]),
        },
        [1.5f, -2f, float.Epsilon]);

    [Fact]
    public void Codec_round_trips_every_field()
    {
        var entry = new UpsertEntry([Sample("a"), Sample("b")]);
        var decoded = Assert.IsType<UpsertEntry>(WalCodec.Decode(WalCodec.Encode(entry)));
        Assert.Equal(2, decoded.Documents.Count);
        var (x, y) = (entry.Documents[0], decoded.Documents[0]);
        Assert.Equal(x.Id, y.Id);
        Assert.Equal(x.Text, y.Text);
        Assert.Equal(x.Vector, y.Vector);
        Assert.Equal(x.Metadata.OrderBy(p => p.Key), y.Metadata.OrderBy(p => p.Key));
        var del = Assert.IsType<DeleteEntry>(WalCodec.Decode(WalCodec.Encode(new DeleteEntry(["p", "q"]))));
        Assert.Equal(["p", "q"], del.Ids);
    }

    [Fact]
    public void Unknown_version_is_refused()
    {
        var bytes = WalCodec.Encode(new DeleteEntry(["p"]));
        bytes[0] = 9;
        var ex = Assert.Throws<InvalidDataException>(() => WalCodec.Decode(bytes));
        Assert.Contains("version 9", ex.Message);
    }

    [Fact]
    public async Task Committed_entries_are_read_back_in_order_after_reopen()
    {
        var positions = new List<long>();
        await using (var wal = FasterLogWal.Open(_dir.Path))
        {
            var appends = Enumerable.Range(0, 20).Select(i => wal.AppendAsync(new DeleteEntry([$"id{i}"])).AsTask());
            positions.AddRange(await Task.WhenAll(appends));
        }
        await using (var reopened = FasterLogWal.Open(_dir.Path))
        {
            var entries = reopened.ReadAll().ToList();
            Assert.Equal(20, entries.Count);
            Assert.Equal(positions.Order(), entries.Select(e => e.Position));
            Assert.Equal(Enumerable.Range(0, 20).Select(i => $"id{i}").Order(),
                entries.Select(e => ((DeleteEntry)e.Entry).Ids[0]).Order());
            var next = await reopened.AppendAsync(new DeleteEntry(["after"]));
            Assert.True(next > entries[^1].Position);
        }
    }

    [Fact]
    public void Codec_v2_checksum_catches_a_flipped_byte_and_v1_entries_still_read()
    {
        var bytes = WalCodec.Encode(new UpsertEntry([Sample("a")]));
        Assert.Equal(2, bytes[0]);
        var flipped = (byte[])bytes.Clone();
        flipped[5] ^= 0x40;
        Assert.Contains("checksum", Assert.Throws<InvalidDataException>(() => WalCodec.Decode(flipped)).Message);
        var cut = bytes.AsSpan(0, bytes.Length - 20).ToArray();
        Assert.Throws<InvalidDataException>(() => WalCodec.Decode(cut));
        var v1 = bytes.AsSpan(0, bytes.Length - sizeof(ulong)).ToArray();
        v1[0] = 1;
        Assert.Equal("a", Assert.IsType<UpsertEntry>(WalCodec.Decode(v1)).Documents[0].Id);
    }

    [Fact]
    public async Task Concurrent_appends_share_commits_and_each_ack_is_durable()
    {
        const int writers = 8, perWriter = 40;
        var notDurableAtAck = 0;
        await using (var wal = FasterLogWal.Open(_dir.Path))
        {
            var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < perWriter; i++)
                {
                    var position = await wal.AppendAsync(new DeleteEntry([$"w{w}-{i}"]));
                    if (wal.CommittedPosition <= position) Interlocked.Increment(ref notDurableAtAck);
                }
            }));
            await Task.WhenAll(tasks);
            Assert.Equal(0, notDurableAtAck);
            Assert.True(wal.CommitCount < writers * perWriter, $"{wal.CommitCount} commits for {writers * perWriter} appends");
            Assert.True(wal.CommitCount >= 1);
        }
        await using var reopened = FasterLogWal.Open(_dir.Path);
        Assert.Equal(writers * perWriter, reopened.ReadAll().Select(e => ((DeleteEntry)e.Entry).Ids[0]).Distinct().Count());
    }

    [Fact]
    public async Task Torn_tail_is_truncated_to_the_last_whole_entry_and_later_appends_survive()
    {
        await using (var wal = FasterLogWal.Open(_dir.Path))
        {
            for (var i = 0; i < 10; i++) await wal.AppendAsync(new UpsertEntry([Sample($"d{i}")]));
        }
        var segment = Directory.GetFiles(_dir.Path).Single(f => Path.GetFileName(f).Contains("log", StringComparison.Ordinal) && !f.Contains("commit", StringComparison.Ordinal));
        var bytes = File.ReadAllBytes(segment);
        var used = Array.FindLastIndex(bytes, b => b != 0) + 1;
        // Tear the last entry: zero its second half, as a crash in the middle of a write would leave it.
        Array.Clear(bytes, used - 40, 40);
        File.WriteAllBytes(segment, bytes);

        await using (var wal = FasterLogWal.Open(_dir.Path))
        {
            var ids = wal.ReadAll().Select(e => ((UpsertEntry)e.Entry).Documents[0].Id).ToList();
            Assert.Equal(Enumerable.Range(0, 9).Select(i => $"d{i}"), ids);
            Assert.True(File.Exists(Path.Combine(_dir.Path, "torn-ranges")));
            await wal.AppendAsync(new UpsertEntry([Sample("after")]));
        }
        await using (var wal = FasterLogWal.Open(_dir.Path))
        {
            var ids = wal.ReadAll().Select(e => ((UpsertEntry)e.Entry).Documents[0].Id).ToList();
            Assert.Equal(Enumerable.Range(0, 9).Select(i => $"d{i}").Append("after"), ids);
        }
    }

    [Fact]
    public async Task A_new_wal_has_32_MiB_segments_and_truncation_deletes_the_segments_behind_it()
    {
        var dir = _dir.Sub("new");
        await using var wal = FasterLogWal.Open(dir);
        Assert.Contains("segment-bits=25", File.ReadAllText(Path.Combine(dir, "format")), StringComparison.Ordinal);
        var big = new string('x', 1 << 20);
        long position = 0;
        for (var i = 0; i < 40; i++)   // ~40 MiB: a second 32 MiB segment
        {
            position = await wal.AppendAsync(new UpsertEntry([Sample($"d{i}") with { Text = big }]));
        }
        Assert.True(File.Exists(Path.Combine(dir, "fasterlog.log.1")), "a second segment after 32 MiB");
        Assert.False(File.Exists(Path.Combine(dir, "fasterlog.log.2")));
        await wal.TruncateBeforeAsync(position);
        var deadline = DateTime.UtcNow.AddSeconds(10);   // FASTER deletes truncated segments in the background
        while (File.Exists(Path.Combine(dir, "fasterlog.log.0")) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.False(File.Exists(Path.Combine(dir, "fasterlog.log.0")), "the first segment is deleted once the log begins after it");
        Assert.Equal(["d39"], wal.ReadAll().Select(e => ((UpsertEntry)e.Entry).Documents[0].Id));
    }

    [Fact]
    public async Task A_wal_written_before_the_format_file_keeps_its_256_MiB_segments()
    {
        var dir = _dir.Sub("legacy");
        Directory.CreateDirectory(dir);
        // Written the way the WAL was before wal/format existed: FasterLog with 256 MiB segments, no format file.
        using (var settings = new FASTER.core.FasterLogSettings(dir) { LogChecksum = FASTER.core.LogChecksumType.PerEntry, PageSizeBits = 22, MemorySizeBits = 24, SegmentSizeBits = 28 })
        using (var log = new FASTER.core.FasterLog(settings))
        {
            for (var i = 0; i < 3; i++) log.Enqueue(WalCodec.Encode(new UpsertEntry([Sample($"old{i}")])));
            await log.CommitAsync();
        }
        Assert.False(File.Exists(Path.Combine(dir, "format")));
        await using (var wal = FasterLogWal.Open(dir))
        {
            Assert.Contains("segment-bits=28", File.ReadAllText(Path.Combine(dir, "format")), StringComparison.Ordinal);
            await wal.AppendAsync(new UpsertEntry([Sample("new")]));
        }
        await using var reopened = FasterLogWal.Open(dir);
        Assert.Equal(["old0", "old1", "old2", "new"], reopened.ReadAll().Select(e => ((UpsertEntry)e.Entry).Documents[0].Id));
    }
}
