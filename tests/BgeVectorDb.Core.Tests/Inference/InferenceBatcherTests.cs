using System.Collections.Concurrent;
using System.Diagnostics;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Batching;

namespace BgeVectorDb.Core.Tests.Inference;

public sealed class InferenceBatcherTests
{
    /// <summary>A deterministic function of the row (ids and types, position-weighted).</summary>
    private static long Fingerprint(EncodedInput row)
    {
        long h = row.Length * 1_000_003L;
        for (int i = 0; i < row.InputIds.Length; i++)
        {
            h = unchecked((h * 31) + (row.InputIds[i] * (i + 1)));
        }

        return h;
    }

    private static EncodedInput RandomRow(Random random, int minLength, int maxLength)
    {
        var ids = new int[random.Next(minLength, maxLength + 1)];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = random.Next(1, 30000);
        }

        return new EncodedInput(ids, null);
    }

    private sealed class Recorder
    {
        public readonly ConcurrentQueue<(int Rows, int MaxLength)> Batches = new();
        public readonly ConcurrentDictionary<int, int> FirstIdsComputed = new();

        public void Compute(ReadOnlySpan<EncodedInput> rows, Span<long> results)
        {
            int max = 0;
            for (int i = 0; i < rows.Length; i++)
            {
                max = Math.Max(max, rows[i].Length);
                results[i] = Fingerprint(rows[i]);
                FirstIdsComputed.AddOrUpdate(rows[i].InputIds[0], 1, (_, n) => n + 1);
            }

            Batches.Enqueue((rows.Length, max));
        }
    }

    [Fact]
    public async Task ConcurrentCallers_EachGetExactlyTheirOwnResultsInOrder()
    {
        var recorder = new Recorder();
        using var batcher = new InferenceBatcher<long>(recorder.Compute,
            new InferenceBatcherOptions { MaxBatchTokens = 2048, MaxBatchRows = 32, SortWindowBatches = 4 });

        var callers = Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
        {
            var random = new Random(1000 + caller);
            var rows = Enumerable.Range(0, 50).Select(_ => RandomRow(random, 1, 200)).ToArray();
            var results = await batcher.SubmitAsync(rows);
            return (rows, results);
        })).ToArray();

        foreach (var (rows, results) in await Task.WhenAll(callers))
        {
            Assert.Equal(rows.Length, results.Length);
            for (int i = 0; i < rows.Length; i++)
            {
                Assert.Equal(Fingerprint(rows[i]), results[i]);
            }
        }

        Assert.Equal(400, recorder.Batches.Sum(b => b.Rows));
        Assert.True(recorder.Batches.Count >= 400 * 100 / 2048, $"only {recorder.Batches.Count} batches");
    }

    [Fact]
    public async Task Batches_RespectTheTokenBudgetAndRowCap_AndAnOverlongRowRunsAlone()
    {
        var recorder = new Recorder();
        using var batcher = new InferenceBatcher<long>(recorder.Compute,
            new InferenceBatcherOptions { MaxBatchTokens = 1000, MaxBatchRows = 16 });
        var random = new Random(7);
        var rows = Enumerable.Range(0, 300).Select(_ => RandomRow(random, 2, 120)).Append(RandomRow(random, 1500, 1500)).ToArray();

        var results = await batcher.SubmitAsync(rows);

        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(Fingerprint(rows[i]), results[i]);
        }

        var batches = recorder.Batches.ToArray();
        Assert.Contains((1, 1500), batches);
        Assert.All(batches.Where(b => b.MaxLength <= 1000), b =>
        {
            Assert.InRange(b.Rows * b.MaxLength, 1, 1000);
            Assert.InRange(b.Rows, 1, 16);
        });
        Assert.Equal(rows.Length, batches.Sum(b => b.Rows));

        // Sorting by length keeps padding low: padded tokens within 25% of the real ones.
        long real = rows.Sum(r => (long)r.Length);
        long padded = batches.Sum(b => (long)b.Rows * b.MaxLength);
        Assert.True(padded < real * 1.25, $"padded {padded} vs real {real}");
    }

    [Fact]
    public async Task Cancellation_CompletesPromptlyAndDropsRowsNotYetRun()
    {
        using var gate = new ManualResetEventSlim(false);
        using var firstBatchStarted = new ManualResetEventSlim(false);
        var computedFirstIds = new ConcurrentBag<int>();
        using var batcher = new InferenceBatcher<long>((rows, results) =>
        {
            firstBatchStarted.Set();
            gate.Wait(TimeSpan.FromSeconds(30));
            for (int i = 0; i < rows.Length; i++)
            {
                computedFirstIds.Add(rows[i].InputIds[0]);
                results[i] = Fingerprint(rows[i]);
            }
        }, new InferenceBatcherOptions { MaxBatchTokens = 64, MaxBatchRows = 4 });

        // A holds the batcher thread inside its first batch.
        var a = batcher.SubmitAsync([new EncodedInput([1, 5, 6], null)]);
        Assert.True(firstBatchStarted.Wait(TimeSpan.FromSeconds(10)));

        using var cts = new CancellationTokenSource();
        var b = batcher.SubmitAsync(Enumerable.Range(0, 40).Select(_ => new EncodedInput([2, 7, 8, 9], null)).ToArray(), cts.Token);
        var c = batcher.SubmitAsync([new EncodedInput([3, 4], null)]);

        var sw = Stopwatch.StartNew();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);
        Assert.True(sw.ElapsedMilliseconds < 1000, $"cancellation took {sw.ElapsedMilliseconds} ms");
        Assert.True(b.IsCanceled);
        Assert.False(a.IsCompleted); // still blocked: b was cancelled without waiting for the batcher

        gate.Set();
        Assert.Equal(Fingerprint(new EncodedInput([1, 5, 6], null)), (await a)[0]);
        Assert.Equal(Fingerprint(new EncodedInput([3, 4], null)), (await c)[0]);
        Assert.DoesNotContain(2, computedFirstIds); // none of b's rows ran
    }

    [Fact]
    public async Task AlreadyCancelledToken_AndEmptyRequest_CompleteImmediately()
    {
        using var batcher = new InferenceBatcher<long>((rows, results) => results.Clear());
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.True(batcher.SubmitAsync([new EncodedInput([1], null)], cts.Token).IsCanceled);
        Assert.Empty(await batcher.SubmitAsync([]));
    }

    [Fact]
    public async Task AFailingBatch_FailsItsRequests_AndTheBatcherKeepsWorking()
    {
        using var batcher = new InferenceBatcher<long>((rows, results) =>
        {
            for (int i = 0; i < rows.Length; i++)
            {
                if (rows[i].InputIds[0] == 666)
                {
                    throw new InvalidOperationException("bad row");
                }

                results[i] = Fingerprint(rows[i]);
            }
        });

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.SubmitAsync([new EncodedInput([666, 1], null)]));
        Assert.Equal("bad row", ex.Message);
        var ok = await batcher.SubmitAsync([new EncodedInput([5, 1], null)]);
        Assert.Equal(Fingerprint(new EncodedInput([5, 1], null)), ok[0]);
    }

    [Fact]
    public async Task Dispose_FailsPendingRequests_AndRejectsNewOnes()
    {
        using var gate = new ManualResetEventSlim(false);
        using var started = new ManualResetEventSlim(false);
        var batcher = new InferenceBatcher<long>((rows, results) =>
        {
            started.Set();
            gate.Wait(TimeSpan.FromSeconds(30));
            results.Clear();
        });
        var running = batcher.SubmitAsync([new EncodedInput([1], null)]);
        Assert.True(started.Wait(TimeSpan.FromSeconds(10)));
        var pending = batcher.SubmitAsync([new EncodedInput([2], null)]);

        var disposing = Task.Run(batcher.Dispose);
        Assert.True(SpinWait.SpinUntil(() => batcher.IsDisposed, TimeSpan.FromSeconds(10)));
        gate.Set();
        await disposing;

        Assert.Equal(0L, (await running)[0]);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending);
        Assert.Throws<ObjectDisposedException>(() => { _ = batcher.SubmitAsync([new EncodedInput([3], null)]); });
    }
}
