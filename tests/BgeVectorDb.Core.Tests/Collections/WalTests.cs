using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Tests.Collections;

public sealed class WalTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "bgevdb-wal-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

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
        await using (var wal = FasterLogWal.Open(_dir))
        {
            var appends = Enumerable.Range(0, 20).Select(i => wal.AppendAsync(new DeleteEntry([$"id{i}"])).AsTask());
            positions.AddRange(await Task.WhenAll(appends));
        }
        await using (var reopened = FasterLogWal.Open(_dir))
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
}
