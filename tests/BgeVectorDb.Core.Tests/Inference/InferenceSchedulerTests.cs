using System.Collections.Concurrent;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Batching;

namespace BgeVectorDb.Core.Tests.Inference;

/// <summary>Priorities, starvation protection, the queue bound and cancellation of <see cref="InferenceBatcher{TResult}"/>.
/// Rows are tagged by their first token id; a "gate" batch holds the scheduler thread while the scenario is queued.</summary>
public sealed class InferenceSchedulerTests : IDisposable
{
    private readonly ManualResetEventSlim _gate = new(false);
    private readonly ManualResetEventSlim _gateRunning = new(false);
    private readonly ConcurrentQueue<int[]> _batches = new(); // first ids of each batch's rows, in run order

    private const int GateTag = 1;

    public void Dispose()
    {
        _gate.Set();
        _gate.Dispose();
        _gateRunning.Dispose();
    }

    private void Compute(ReadOnlySpan<EncodedInput> rows, Span<long> results)
    {
        var tags = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            tags[i] = rows[i].InputIds[0];
            results[i] = (tags[i] * 1000L) + rows[i].Length;
        }

        if (tags[0] == GateTag)
        {
            _gateRunning.Set();
            Assert.True(_gate.Wait(TimeSpan.FromSeconds(30)));
        }

        _batches.Enqueue(tags);
    }

    private static EncodedInput[] Rows(int tag, int count, int length = 4) =>
        Enumerable.Range(0, count).Select(_ => new EncodedInput(Enumerable.Repeat(tag, length).ToArray(), null)).ToArray();

    /// <summary>Submits the gate row and waits until its batch holds the scheduler thread.</summary>
    private Task<long[]> HoldAsync(InferenceBatcher<long> batcher)
    {
        var held = batcher.SubmitAsync(Rows(GateTag, 1), InferencePriority.Query);
        Assert.True(_gateRunning.Wait(TimeSpan.FromSeconds(10)));
        return held;
    }

    private List<int> BatchTags() => _batches.Select(b => b[0]).ToList();

    [Fact]
    public async Task Waiting_requests_run_query_first_then_rerank_then_ingest()
    {
        using var batcher = new InferenceBatcher<long>(Compute, new InferenceBatcherOptions { MaxBatchRows = 4 });
        var held = HoldAsync(batcher);
        var ingest = batcher.SubmitAsync(Rows(2, 8), InferencePriority.Ingest);
        var rerank = batcher.SubmitAsync(Rows(3, 8), InferencePriority.Rerank);
        var query = batcher.SubmitAsync(Rows(4, 2), InferencePriority.Query);
        _gate.Set();
        await Task.WhenAll(held, ingest, rerank, query);

        // Batches never mix lanes; each lane's 4-row batches run in priority order.
        Assert.Equal([GateTag, 4, 3, 3, 2, 2], BatchTags());
        Assert.All(_batches, b => Assert.All(b, t => Assert.Equal(b[0], t)));
        Assert.Equal(Enumerable.Repeat(2004L, 8), await ingest);
        Assert.Equal(Enumerable.Repeat(4004L, 2), await query);
    }

    [Fact]
    public async Task A_split_ingest_request_lets_a_query_in_after_the_batch_in_flight()
    {
        using var batcher = new InferenceBatcher<long>(Compute, new InferenceBatcherOptions { MaxBatchRows = 10 });
        // The first ingest batch is the gate (same lane, same request): the query arrives while it runs.
        var rows = Rows(GateTag, 10).Concat(Rows(2, 90)).ToArray();
        var ingest = batcher.SubmitAsync(rows, InferencePriority.Ingest);
        Assert.True(_gateRunning.Wait(TimeSpan.FromSeconds(10)));
        var query = batcher.SubmitAsync(Rows(4, 1), InferencePriority.Query);
        _gate.Set();
        await Task.WhenAll(ingest, query);

        var tags = BatchTags();
        Assert.Equal(11, tags.Count); // 100 ingest rows in batches of 10, plus the query
        Assert.Equal(GateTag, tags[0]);
        Assert.Equal(4, tags[1]);
        Assert.Equal(100, (await ingest).Length);
    }

    [Fact]
    public async Task Starvation_protection_runs_a_passed_over_lane_after_StarvationLimit_batches()
    {
        using var batcher = new InferenceBatcher<long>(Compute, new InferenceBatcherOptions { MaxBatchRows = 1, StarvationLimit = 3 });
        var held = HoldAsync(batcher);
        var ingest = batcher.SubmitAsync(Rows(2, 2), InferencePriority.Ingest);
        var queries = batcher.SubmitAsync(Rows(4, 12), InferencePriority.Query);
        _gate.Set();
        await Task.WhenAll(held, ingest, queries);

        // Each ingest row waits exactly 3 query batches, although queries keep waiting.
        Assert.Equal([GateTag, 4, 4, 4, 2, 4, 4, 4, 2, 4, 4, 4, 4, 4, 4], BatchTags());
    }

    [Fact]
    public async Task Ingest_batches_are_sized_by_time_at_the_measured_throughput_while_query_batches_use_the_whole_budget()
    {
        // A model that needs at least 1 ms per 10 padded tokens: at most 10,000 tokens/s.
        void Slow(ReadOnlySpan<EncodedInput> rows, Span<long> results)
        {
            Thread.Sleep(rows.Length * rows[0].Length / 10);
            Compute(rows, results);
        }

        var options = new InferenceBatcherOptions { MaxBatchTokens = 10_000, IngestBatchMilliseconds = 50 };
        using var batcher = new InferenceBatcher<long>(Slow, options);
        await batcher.SubmitAsync(Rows(4, 100, length: 10), InferencePriority.Query);
        Assert.Equal([100], _batches.Select(b => b.Length)); // 1,000 tokens: one batch

        _batches.Clear();
        var results = await batcher.SubmitAsync(Rows(2, 100, length: 10), InferencePriority.Ingest);
        Assert.Equal(100, results.Length);
        // 50 ms at <= 10,000 tokens/s is <= 500 tokens: batches of at most 50 rows.
        var sizes = _batches.Select(b => b.Length).ToList();
        Assert.True(sizes.Count >= 2 && sizes.Max() <= 50, $"ingest batches: {string.Join(",", sizes)}");
        var stats = batcher.Statistics;
        Assert.InRange(stats.TokensPerSecond, 100, 10_000);
        Assert.InRange(stats.IngestBatchTokens, 5, 500);

        // 0 = no time target: the whole budget.
        _batches.Clear();
        using var untimed = new InferenceBatcher<long>(Slow, new InferenceBatcherOptions { MaxBatchTokens = 10_000, IngestBatchMilliseconds = 0 });
        await untimed.SubmitAsync(Rows(2, 100, length: 10), InferencePriority.Ingest);
        Assert.Equal([100], _batches.Select(b => b.Length));
    }

    [Fact]
    public async Task A_full_queue_fails_fast_with_ResourceExhausted_and_a_cancelled_request_frees_its_tokens_and_rows()
    {
        using var batcher = new InferenceBatcher<long>(Compute, new InferenceBatcherOptions { MaxQueuedTokens = 100 }, "test-model");
        var held = HoldAsync(batcher); // its row is running: not counted as waiting

        using var cts = new CancellationTokenSource();
        var big = batcher.SubmitAsync(Rows(2, 20, length: 4), InferencePriority.Rerank, cts.Token); // 80 tokens
        Assert.Equal(80, batcher.Statistics.QueuedTokens);

        var refused = batcher.SubmitAsync(Rows(3, 6, length: 5), InferencePriority.Query); // 30 tokens: 110 > 100
        Assert.True(refused.IsFaulted); // at once, without waiting for the scheduler
        var ex = await Assert.ThrowsAsync<EngineException>(() => refused);
        Assert.Equal(EngineErrorKind.ResourceExhausted, ex.Kind);
        Assert.Contains("'test-model'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("80 tokens waiting + 30 requested exceeds max_queued_tokens=100", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, batcher.Statistics.Rejected);

        cts.Cancel();
        Assert.True(big.IsCanceled); // completes at once, while the scheduler is still busy
        Assert.Equal(0, batcher.Statistics.QueuedTokens);
        var admitted = batcher.SubmitAsync(Rows(3, 6, length: 5), InferencePriority.Query);
        Assert.False(admitted.IsFaulted);

        _gate.Set();
        Assert.Equal(Enumerable.Repeat(3005L, 6), await admitted);
        await held;
        Assert.DoesNotContain(_batches, b => b.Contains(2)); // none of the cancelled request's rows ran
        Assert.Equal(0, batcher.Statistics.QueuedTokens);
    }

    [Fact]
    public async Task A_request_larger_than_the_bound_runs_when_nothing_waits_split_into_budgeted_batches()
    {
        using var batcher = new InferenceBatcher<long>(Compute,
            new InferenceBatcherOptions { MaxQueuedTokens = 100, MaxBatchTokens = 200, MaxBatchRows = 64 });
        var rows = Enumerable.Range(0, 300).Select(i => new EncodedInput(Enumerable.Repeat(5, 1 + (i % 40)).ToArray(), null)).ToArray();

        var results = await batcher.SubmitAsync(rows, InferencePriority.Rerank); // 5,950 tokens > 100: admitted on an idle queue

        Assert.Equal(rows.Select(r => 5000L + r.Length), results);
        var stats = batcher.Statistics;
        Assert.Equal(300, stats.Rows);
        Assert.True(stats.Batches >= 5950 / 200, $"{stats.Batches} batches");
        Assert.True(stats.PaddedTokens <= stats.Batches * 200, $"{stats.PaddedTokens} padded tokens in {stats.Batches} batches of at most 200");
        Assert.True(stats.RunTime > TimeSpan.Zero);
    }

    [Fact]
    public async Task A_cancelled_request_in_the_sorted_window_is_skipped_and_others_complete()
    {
        using var batcher = new InferenceBatcher<long>(Compute, new InferenceBatcherOptions { MaxBatchRows = 2 });
        var held = HoldAsync(batcher);
        using var cts = new CancellationTokenSource();
        var first = batcher.SubmitAsync(Rows(2, 3), InferencePriority.Ingest);
        var cancelled = batcher.SubmitAsync(Rows(3, 5), InferencePriority.Ingest, cts.Token);
        var last = batcher.SubmitAsync(Rows(6, 3), InferencePriority.Ingest);
        cts.Cancel();
        _gate.Set();

        Assert.Equal(Enumerable.Repeat(2004L, 3), await first);
        Assert.Equal(Enumerable.Repeat(6004L, 3), await last);
        await held;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.DoesNotContain(_batches, b => b.Contains(3));
        Assert.Equal(0, batcher.Statistics.QueuedTokens);
    }
}
