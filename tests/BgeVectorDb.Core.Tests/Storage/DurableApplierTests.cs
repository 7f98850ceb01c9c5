using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary><see cref="DurableApplier"/>: a write is applied only once its WAL entry is durable, in log order, and
/// never when the WAL could not make it durable. The commit outcomes FasterLog cannot be made to produce on demand
/// (a failed commit, commits finishing in a chosen order) come from <see cref="ScriptedWal"/>; durability itself is
/// checked on a real FasterLog.</summary>
public sealed class DurableApplierTests : IDisposable
{
    private readonly TempDirectory _temp = new("bgevdb-applier", create: false);

    private string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    private static DeleteEntry Entry(string id) => new([id]);

    private static DurableApplier Applier(IWriteAheadLog? wal) =>
        new("c", wal, () => new EngineException(EngineErrorKind.NotFound, "collection 'c' was deleted"));

    [Fact]
    public async Task A_write_is_applied_only_after_its_entry_is_durable_in_the_real_wal()
    {
        await using var wal = FasterLogWal.Open(_dir);
        var applier = Applier(wal);
        var seenAtApply = new List<string>();
        var (position, result) = await applier.LogThenApplyAsync(Entry("a"), () =>
        {
            seenAtApply.AddRange(wal.ReadAll().Select(e => ((DeleteEntry)e.Entry).Ids[0]));
            return 7;
        }, CancellationToken.None);
        Assert.Equal(7, result);
        Assert.Equal(["a"], seenAtApply);   // committed (readable) when applied
        Assert.Equal(position, Assert.Single(wal.ReadAll()).Position);
        Assert.Equal(1, applier.Writes);
    }

    [Fact]
    public async Task A_write_whose_commit_fails_is_not_applied_and_reports_the_full_disk()
    {
        var wal = new ScriptedWal();
        var applier = Applier(wal);
        var applied = new List<string>();
        var failing = applier.LogThenApplyAsync(Entry("lost"), () => { applied.Add("lost"); return 0; }, CancellationToken.None);
        var next = applier.LogThenApplyAsync(Entry("kept"), () => { applied.Add("kept"); return 0; }, CancellationToken.None);
        wal.Durable[0].SetException(new WalUnavailableException("the disk is full: the volume holding /x has 0 bytes free", diskFull: true));
        wal.Durable[1].SetResult();
        var ex = await Assert.ThrowsAsync<EngineException>(() => failing);
        Assert.Equal(EngineErrorKind.ResourceExhausted, ex.Kind);
        Assert.Contains("write not durable, not applied", ex.Message);
        await next;
        Assert.Equal(["kept"], applied);
        Assert.Equal(1, applier.Writes);
    }

    [Fact]
    public async Task A_write_the_wal_refuses_to_enqueue_is_neither_applied_nor_ordered()
    {
        var wal = new ScriptedWal { Refuse = new WalUnavailableException("write-ahead log commit failed: I/O error", diskFull: false) };
        var applier = Applier(wal);
        var applied = false;
        var ex = await Assert.ThrowsAsync<EngineException>(() => applier.LogThenApplyAsync(Entry("a"), () => applied = true, CancellationToken.None));
        Assert.Equal(EngineErrorKind.Unavailable, ex.Kind);
        Assert.False(applied);
        wal.Refuse = null;
        var next = applier.LogThenApplyAsync(Entry("b"), () => true, CancellationToken.None);
        Assert.Single(wal.Durable);   // the refused write took no place in the log
        wal.Durable[0].SetResult();
        var (_, ok) = await next.WaitAsync(TimeSpan.FromSeconds(10));   // nor in the apply order: nothing waits for it
        Assert.True(ok);
    }

    [Fact]
    public async Task Writes_apply_in_log_order_even_when_a_later_entry_is_durable_first()
    {
        var wal = new ScriptedWal();
        var applier = Applier(wal);
        var order = new List<string>();
        var first = applier.LogThenApplyAsync(Entry("first"), () => { lock (order) order.Add("first"); return 0; }, CancellationToken.None);
        var second = applier.LogThenApplyAsync(Entry("second"), () => { lock (order) order.Add("second"); return 0; }, CancellationToken.None);
        wal.Durable[1].SetResult();
        await Task.Delay(100);
        Assert.False(second.IsCompleted);
        lock (order) Assert.Empty(order);
        wal.Durable[0].SetResult();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["first", "second"], order);
    }

    [Fact]
    public async Task A_hold_waits_for_logged_writes_to_apply_and_holds_later_writes_until_released()
    {
        var wal = new ScriptedWal();
        var applier = Applier(wal);
        var applied = new List<string>();
        var logged = applier.LogThenApplyAsync(Entry("a"), () => { lock (applied) applied.Add("a"); return 0; }, CancellationToken.None);
        var holding = applier.HoldAsync(CancellationToken.None);
        await Task.Delay(100);
        Assert.False(holding.IsCompleted);   // "a" is logged but not yet applied
        wal.Durable[0].SetResult();
        var hold = await holding.WaitAsync(TimeSpan.FromSeconds(10));
        lock (applied) Assert.Equal(["a"], applied);
        Assert.Equal(wal.TailPosition, hold.Position);
        Assert.Equal(1, applier.Writes);
        hold.ResetWrites();
        Assert.Equal(0, applier.Writes);
        var later = applier.LogThenApplyAsync(Entry("b"), () => 0, CancellationToken.None);
        await Task.Delay(100);
        Assert.Single(wal.Durable);   // not even logged while held
        hold.Dispose();
        await WaitUntil(() => wal.Durable.Count == 2);
        wal.Durable[1].SetResult();
        await later.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, applier.Writes);
    }

    [Fact]
    public async Task After_close_writes_fail_with_the_closed_error_and_are_not_logged()
    {
        var wal = new ScriptedWal();
        var applier = Applier(wal);
        var inFlight = applier.LogThenApplyAsync(Entry("a"), () => 1, CancellationToken.None);
        var closing = applier.CloseAsync();
        Assert.False(closing.IsCompleted);   // a logged write finishes first
        wal.Durable[0].SetResult();
        await closing.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, (await inFlight).Result);
        Assert.True(applier.Closed);
        var ex = await Assert.ThrowsAsync<EngineException>(() => applier.LogThenApplyAsync(Entry("b"), () => 1, CancellationToken.None));
        Assert.Equal(EngineErrorKind.NotFound, ex.Kind);
        Assert.Single(wal.Durable);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++) await Task.Delay(25);
        Assert.True(condition());
    }

    /// <summary>A WAL whose commits the test completes (or fails) one by one.</summary>
    private sealed class ScriptedWal : IWriteAheadLog
    {
        private readonly Lock _sync = new();

        public List<TaskCompletionSource> Durable { get; } = [];

        /// <summary>Thrown by <see cref="Enqueue"/> while set.</summary>
        public WalUnavailableException? Refuse { get; set; }

        public long TailPosition
        {
            get
            {
                lock (_sync) return 64 + 100L * Durable.Count;
            }
        }

        public (long Position, Task Durable) Enqueue(WalEntry entry)
        {
            if (Refuse is { } refuse) throw refuse;
            lock (_sync)
            {
                var position = TailPosition;
                var durable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Durable.Add(durable);
                return (position, durable.Task);
            }
        }

        public ValueTask<long> AppendAsync(WalEntry entry, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public IEnumerable<(long Position, WalEntry Entry)> ReadAll() => throw new NotSupportedException();

        public IEnumerable<(long Position, WalEntry Entry)> ReadFrom(long position) => throw new NotSupportedException();

        public Task TruncateBeforeAsync(long position) => throw new NotSupportedException();

        public long BeginPosition => 64;

        public long SizeBytes => TailPosition - 64;

        public string? Broken => null;

        public bool TryRecover() => true;

        public long CommitCount => 0;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
