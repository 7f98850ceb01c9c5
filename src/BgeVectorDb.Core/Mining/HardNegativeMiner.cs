using System.Globalization;
using System.Runtime.CompilerServices;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Common.Mining;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Mining;

/// <summary>
/// Mines ANN hard negatives for training examples over a live collection, as FlagEmbedding's
/// <c>hn_mine</c> does, with provenance and explicit shortfalls.
/// <para>Per example: embed the query (with the instruction) -> the best <c>RangeEnd</c> hits through the
/// collection's index (metadata filter applied) -> keep the slice <c>hits[RangeStart:RangeEnd]</c> ->
/// examine the slice in a random order (Fisher-Yates with <see cref="DeterministicRandom.ForItem"/>(seed,
/// index)), dropping positives (same id or equal text), the query's own text, near duplicates of a
/// positive and, with the cross-encoder filter, candidates scored above the threshold -> the first
/// <c>NegativeNumber</c> survivors, reported in rank order. This picks a uniform random subset of the
/// survivors, as hn_mine's <c>random.sample</c> does, while examining (and reranking) only as many
/// candidates as needed. When fewer survive, the example says so; nothing is padded.</para>
/// <para>Examples are mined <see cref="MiningOptions.Parallelism"/> at a time and returned in input order;
/// memory is bounded by that window. Model work (query embedding, reranking) runs in the ingest (bulk) lane
/// of the models' schedulers, behind interactive searches. Each example depends only on (seed, its index, its content and the
/// collection), so output is identical whatever the parallelism or the split of the input.</para>
/// </summary>
public sealed class HardNegativeMiner
{
    private readonly Collection _collection;
    private readonly MiningOptions _options;
    private readonly int _rangeStart;
    private readonly int _rangeEnd;
    private readonly int _negativeNumber;
    private readonly string _instruction;
    private readonly double _nearDuplicateThreshold;
    private readonly int _parallelism;

    /// <summary>Checks the options against the collection (InvalidArgument naming the option, or
    /// FailedPrecondition when the reranker is needed and missing).</summary>
    public HardNegativeMiner(Collection collection, MiningOptions options)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(options);
        _collection = collection;
        _options = options;
        _rangeStart = options.RangeStart ?? MiningOptions.DefaultRangeStart;
        _rangeEnd = options.RangeEnd ?? MiningOptions.DefaultRangeEnd;
        _negativeNumber = options.NegativeNumber ?? MiningOptions.DefaultNegativeNumber;
        _instruction = options.QueryInstruction ?? collection.Config.QueryInstruction;
        _nearDuplicateThreshold = options.NearDuplicateThreshold ?? TextSimilarity.DefaultNearDuplicateThreshold;
        _parallelism = options.Parallelism ?? MiningOptions.DefaultParallelism;

        var maxEnd = collection.Limits.MaxCandidates;
        if (_rangeStart < 0) EngineException.ThrowInvalid("range_start", $"must not be negative, got {_rangeStart}");
        if (_rangeEnd <= _rangeStart) EngineException.ThrowInvalid("range_end", $"must be greater than range_start ({_rangeStart}), got {_rangeEnd}");
        if (_rangeEnd > maxEnd) EngineException.ThrowInvalid("range_end", $"{_rangeEnd} exceeds the limit {EngineLimits.Cite("max_candidates", maxEnd, nameof(EngineLimits.MaxCandidates))}");
        if (_negativeNumber is < 1 or > MiningOptions.MaxNegativeNumber)
        {
            EngineException.ThrowInvalid("negative_number", $"must be between 1 and {MiningOptions.MaxNegativeNumber}, got {_negativeNumber}");
        }
        if (_nearDuplicateThreshold is not (> 0 and <= 1) || double.IsNaN(_nearDuplicateThreshold))
        {
            EngineException.ThrowInvalid("near_duplicate_threshold", $"must be in (0, 1], got {_nearDuplicateThreshold.ToString(CultureInfo.InvariantCulture)}");
        }
        if (options.FalseNegativeRatio is { } ratio && (ratio is not (> 0 and <= 1) || double.IsNaN(ratio)))
        {
            EngineException.ThrowInvalid("false_negative_ratio", $"must be in (0, 1], got {ratio.ToString(CultureInfo.InvariantCulture)}");
        }
        if (_parallelism is < 1 or > 256) EngineException.ThrowInvalid("parallelism", $"must be between 1 and 256, got {_parallelism}");
        if (options.QueryInstruction is { } qi && qi.Length > collection.Limits.MaxQueryLength)
        {
            EngineException.ThrowInvalid("query_instruction", $"{qi.Length} characters exceeds the limit {EngineLimits.Cite("max_query_length", collection.Limits.MaxQueryLength, nameof(EngineLimits.MaxQueryLength))}");
        }
        if ((options.FalseNegativeRatio is not null || options.WithScores) && collection.Reranker is null)
        {
            throw new EngineException(EngineErrorKind.FailedPrecondition,
                $"{(options.FalseNegativeRatio is not null ? "false_negative_ratio" : "with_scores")}: collection '{collection.Name}' has no reranker model",
                options.FalseNegativeRatio is not null ? "false_negative_ratio" : "with_scores");
        }
    }

    public int RangeStart => _rangeStart;

    public int RangeEnd => _rangeEnd;

    public int NegativeNumber => _negativeNumber;

    /// <summary>Checks one example (InvalidArgument naming <paramref name="field"/>.query, .pos, .pos_ids[j]):
    /// a non-empty query within the length limit, at least one positive, positive ids stored.</summary>
    public void Validate(MiningExample example, string field)
    {
        ArgumentNullException.ThrowIfNull(example);
        if (string.IsNullOrWhiteSpace(example.Query)) EngineException.ThrowInvalid(field + ".query", "must not be empty");
        if (example.Query.Length > _collection.Limits.MaxQueryLength)
        {
            EngineException.ThrowInvalid(field + ".query", $"{example.Query.Length} characters exceeds the limit {EngineLimits.Cite("max_query_length", _collection.Limits.MaxQueryLength, nameof(EngineLimits.MaxQueryLength))}");
        }
        var ids = example.PosIds ?? [];
        if (example.Pos.Count == 0 && ids.Count == 0) EngineException.ThrowInvalid(field + ".pos", "needs at least one positive (pos or pos_ids)");
        for (var i = 0; i < example.Pos.Count; i++)
        {
            if (example.Pos[i] is null) EngineException.ThrowInvalid($"{field}.pos[{i}]", "must be a string");
        }
        if (ids.Count > 0)
        {
            var texts = _collection.MiningTexts(ids);
            for (var i = 0; i < texts.Length; i++)
            {
                if (texts[i] is null) EngineException.ThrowInvalid($"{field}.pos_ids[{i}]", $"document '{ids[i]}' does not exist in collection '{_collection.Name}'");
            }
        }
    }

    /// <summary>Mines every example, yielding results in input order as they are ready. Examples are
    /// validated as they are reached (see <see cref="Validate"/>; field "examples[index]").</summary>
    public async IAsyncEnumerable<MinedExample> MineAsync(IAsyncEnumerable<MiningExample> examples,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(examples);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var window = new Queue<Task<MinedExample>>();
        try
        {
            await foreach (var example in examples.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                Validate(example, $"examples[{example.Index}]");
                var token = stop.Token;
                window.Enqueue(Task.Run(() => MineOneAsync(example, token), token));
                if (window.Count >= _parallelism) yield return await NextAsync(window, cancellationToken).ConfigureAwait(false);
            }
            while (window.Count > 0) yield return await NextAsync(window, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Early exit (consumer stopped, error, cancellation): stop the rest and wait for them.
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var pending in window)
            {
                try
                {
                    await pending.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or EngineException)
                {
                    // Their results are no longer wanted.
                }
            }
        }
    }

    private static async Task<MinedExample> NextAsync(Queue<Task<MinedExample>> window, CancellationToken cancellationToken)
    {
        var result = await window.Dequeue().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return result;
    }

    /// <summary>Mines a synchronous sequence (see the asynchronous overload).</summary>
    public IAsyncEnumerable<MinedExample> MineAsync(IEnumerable<MiningExample> examples, CancellationToken cancellationToken = default) =>
        MineAsync(ToAsync(examples), cancellationToken);

    /// <summary>Mines one example (not validated here; see <see cref="Validate"/>).</summary>
    public async Task<MinedExample> MineOneAsync(MiningExample example, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var posIds = example.PosIds ?? [];
        var pos = new List<string>(example.Pos.Count + posIds.Count);
        pos.AddRange(example.Pos);
        if (posIds.Count > 0)
        {
            foreach (var t in _collection.MiningTexts(posIds)) pos.Add(t ?? "");
        }

        var vector = await _collection.MiningQueryVectorAsync(example.Query, example.QueryVector, _instruction,
            $"examples[{example.Index}].query_vector", cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var hits = _collection.MiningCandidates(vector, _rangeEnd, _options.Filter);
        var inRange = Math.Max(0, hits.Length - _rangeStart);

        // Random order of examination.
        var order = new int[inRange];
        for (var i = 0; i < order.Length; i++) order[i] = _rangeStart + i;
        DeterministicRandom.ForItem(_options.Seed, (ulong)example.Index).Shuffle(order.AsSpan());

        var posIdSet = new HashSet<string>(posIds, StringComparer.Ordinal);
        var posKeys = new HashSet<string>(StringComparer.Ordinal);
        var posShingles = new List<HashSet<ulong>>(pos.Count);
        foreach (var p in pos)
        {
            var words = TextSimilarity.Words(p);
            posKeys.Add(string.Join(' ', words));
            if (_options.DropNearDuplicates) posShingles.Add(TextSimilarity.Shingles(words));
        }
        var queryKey = TextSimilarity.Key(example.Query);

        var reranker = _collection.Reranker;
        float[]? posScores = null;
        float? threshold = null;
        if (reranker is not null && (_options.FalseNegativeRatio is not null || _options.WithScores))
        {
            posScores = await reranker.ScoreAsync(example.Query, pos, InferencePriority.Ingest, cancellationToken).ConfigureAwait(false);
            if (_options.FalseNegativeRatio is { } ratio)
            {
                var minPos = double.PositiveInfinity;
                foreach (var s in posScores) minPos = Math.Min(minPos, Probability(s));
                threshold = FromProbability(ratio * minPos);
            }
        }

        var chosen = new List<MinedNegative>(_negativeNumber);
        int examined = 0, droppedPositive = 0, droppedQuery = 0, droppedNear = 0, droppedFalse = 0;
        var next = 0;
        var pending = new List<MiningHit>();
        while (chosen.Count < _negativeNumber && next < order.Length)
        {
            // Gather as many screened candidates as negatives are still missing.
            pending.Clear();
            while (pending.Count < _negativeNumber - chosen.Count && next < order.Length)
            {
                var hit = hits[order[next++]];
                examined++;
                var key = TextSimilarity.Key(hit.Text);
                if (posIdSet.Contains(hit.Id) || posKeys.Contains(key))
                {
                    droppedPositive++;
                    continue;
                }
                if (key == queryKey)
                {
                    droppedQuery++;
                    continue;
                }
                if (_options.DropNearDuplicates && IsNearDuplicate(hit.Text, posShingles))
                {
                    droppedNear++;
                    continue;
                }
                pending.Add(hit);
            }
            if (pending.Count == 0) break;
            if (threshold is { } limit)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var scores = await reranker!.ScoreAsync(example.Query, pending.Select(h => h.Text).ToArray(), InferencePriority.Ingest, cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < pending.Count; i++)
                {
                    if (scores[i] > limit) droppedFalse++;
                    else chosen.Add(new MinedNegative(pending[i].Id, pending[i].Text, pending[i].Rank, pending[i].Score, scores[i]));
                }
            }
            else
            {
                foreach (var h in pending) chosen.Add(new MinedNegative(h.Id, h.Text, h.Rank, h.Score, null));
            }
        }
        chosen.Sort(static (a, b) => a.Rank.CompareTo(b.Rank));

        if (_options.WithScores && threshold is null && chosen.Count > 0)
        {
            var scores = await reranker!.ScoreAsync(example.Query, chosen.Select(c => c.Text).ToArray(), InferencePriority.Ingest, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < chosen.Count; i++) chosen[i] = chosen[i] with { RerankScore = scores[i] };
        }

        var counts = new MiningCounts(inRange, examined, droppedPositive, droppedQuery, droppedNear, droppedFalse);
        var shortfall = chosen.Count < _negativeNumber ? DescribeShortfall(chosen.Count, hits.Length, counts) : null;
        return new MinedExample(example, pos, chosen, posScores, _options.WithScores, _negativeNumber, _rangeStart, _rangeEnd, counts, shortfall, threshold);
    }

    private string DescribeShortfall(int found, int retrieved, MiningCounts c)
    {
        var parts = new List<string>();
        if (retrieved < _rangeEnd)
        {
            parts.Add($"the collection returned {retrieved} hits{(_options.Filter is null ? "" : " matching the filter")} (asked for {_rangeEnd}), " +
                      $"so {c.InRange} lie in ranks {_rangeStart + 1}-{_rangeEnd}");
        }
        else
        {
            parts.Add($"{c.InRange} candidates in ranks {_rangeStart + 1}-{_rangeEnd}");
        }
        if (c.DroppedPositive > 0) parts.Add($"{c.DroppedPositive} are positives");
        if (c.DroppedQuery > 0) parts.Add($"{c.DroppedQuery} equal the query");
        if (c.DroppedNearDuplicate > 0) parts.Add($"{c.DroppedNearDuplicate} nearly duplicate a positive");
        if (c.DroppedFalseNegative > 0) parts.Add($"{c.DroppedFalseNegative} score above the false-negative threshold");
        return $"found {found} of {_negativeNumber} negatives: " + string.Join("; ", parts);
    }

    private bool IsNearDuplicate(string text, List<HashSet<ulong>> positives)
    {
        if (positives.Count == 0) return false;
        var shingles = TextSimilarity.Shingles(TextSimilarity.Words(text));
        foreach (var p in positives)
        {
            if (TextSimilarity.Jaccard(shingles, p) >= _nearDuplicateThreshold) return true;
        }
        return false;
    }

    private double Probability(float score) => _options.RerankerScoresAreProbabilities ? score : 1.0 / (1.0 + Math.Exp(-score));

    /// <summary>The reranker-scale score of a probability (identity, or the logit).</summary>
    private float FromProbability(double p)
    {
        if (_options.RerankerScoresAreProbabilities) return (float)p;
        p = Math.Clamp(p, 1e-12, 1 - 1e-12);
        return (float)Math.Log(p / (1 - p));
    }

    private static async IAsyncEnumerable<MiningExample> ToAsync(IEnumerable<MiningExample> examples)
    {
        foreach (var e in examples)
        {
            yield return e;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }
}
