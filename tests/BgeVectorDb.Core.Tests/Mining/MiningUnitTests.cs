using System.Text.Json;
using System.Text.Json.Nodes;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Common.Mining;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Mining;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Search;

namespace BgeVectorDb.Core.Tests.Mining;

public sealed class DeterministicRandomTests
{
    [Fact]
    public void SplitMix64_and_xoshiro256starstar_match_the_reference_outputs()
    {
        // splitmix64.c from state 0: the published first outputs.
        ulong state = 0;
        Assert.Equal(0xE220A8397B1DCDAFUL, DeterministicRandom.SplitMix64(ref state));
        Assert.Equal(0x6E789E6AA1B965F4UL, DeterministicRandom.SplitMix64(ref state));
        Assert.Equal(0x06C45D188009454FUL, DeterministicRandom.SplitMix64(ref state));
        Assert.Equal(0xF88BB8A8724C81ECUL, DeterministicRandom.SplitMix64(ref state));
        // xoshiro256starstar.c seeded with those four words (computed with a transcription of the C code).
        var rng = new DeterministicRandom(0);
        Assert.Equal(0x99EC5F36CB75F2B4UL, rng.NextUInt64());
        Assert.Equal(0xBF6E1F784956452AUL, rng.NextUInt64());
        Assert.Equal(0x1A5F849D4933E6E0UL, rng.NextUInt64());
    }

    [Fact]
    public void NextBelow_stays_in_bounds_and_covers_them_and_shuffle_is_a_seeded_permutation()
    {
        var rng = new DeterministicRandom(7);
        var seen = new int[5];
        for (var i = 0; i < 5000; i++) seen[rng.NextBelow(5)]++;
        Assert.All(seen, c => Assert.InRange(c, 850, 1150));

        int[] a = [.. Enumerable.Range(0, 50)], b = [.. Enumerable.Range(0, 50)], c = [.. Enumerable.Range(0, 50)];
        DeterministicRandom.ForItem(1, 3).Shuffle(a.AsSpan());
        DeterministicRandom.ForItem(1, 3).Shuffle(b.AsSpan());
        DeterministicRandom.ForItem(1, 4).Shuffle(c.AsSpan());
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(Enumerable.Range(0, 50), a.Order());
    }
}

public sealed class TextSimilarityTests
{
    [Fact]
    public void Normalisation_folds_case_width_punctuation_and_whitespace()
    {
        Assert.Equal("vitamin d reduces risk 2", TextSimilarity.Key("  Vitamin-D\treduces   RISK (２)!"));
        Assert.Equal(TextSimilarity.Key("Aspirin, heart."), TextSimilarity.Key("aspirin heart"));
        Assert.NotEqual(TextSimilarity.Key("aspirin heart"), TextSimilarity.Key("aspirin hearts"));
    }

    [Fact]
    public void Jaccard_of_word_trigrams()
    {
        const string a = "one two three four five";                 // {123, 234, 345}
        Assert.Equal(1.0, TextSimilarity.Similarity(a, "One, two; three four five."));
        Assert.Equal(0.5, TextSimilarity.Similarity(a, "one two three four six"), 10); // {123,234,346}: 2/4
        Assert.Equal(0.0, TextSimilarity.Similarity(a, "six seven eight"));
        Assert.Equal(1.0, TextSimilarity.Similarity("short text", "Short text!"));
    }
}

public sealed class FlagEmbeddingJsonlTests
{
    [Fact]
    public void Reader_keeps_extra_fields_in_order_and_the_writer_puts_them_back()
    {
        var e = FlagEmbeddingJsonl.Parse("""{"prompt":"p","query":"q","pos":["a"],"neg":["old"],"neg_scores":[1],"type":"normal","bgevdb":{}}""", 5, "line 6");
        Assert.Equal(5, e.Index);
        Assert.Equal("q", e.Query);
        Assert.Equal(["a"], e.Pos);
        Assert.Equal(["old"], e.Neg!);
        Assert.Equal(["prompt", "type"], e.Extra!.Select(kv => kv.Key));

        var mined = new MinedExample(e, ["a"], [new MinedNegative("d1", "b é \"x\"", 4, 0.5f, null)], null, false, 2, 2, 200,
            new MiningCounts(1, 1, 0, 0, 0, 0), "found 1 of 2 negatives: 1 candidates in ranks 3-200", null);
        var line = FlagEmbeddingJsonl.Format(mined);
        Assert.Equal("""{"query":"q","pos":["a"],"neg":["b é \"x\""],"prompt":"p","type":"normal","bgevdb":{"requested":2,"range":[2,200],"negatives":[{"id":"d1","rank":4,"ann_score":0.5}],"counts":{"in_range":1,"examined":1,"dropped_positive":0,"dropped_query":0,"dropped_near_duplicate":0,"dropped_false_negative":0},"shortfall":"found 1 of 2 negatives: 1 candidates in ranks 3-200"}}""", line);
    }

    [Theory]
    [InlineData("not json", "line 3")]
    [InlineData("[1]", "line 3")]
    [InlineData("""{"pos":["a"]}""", "line 3.query")]
    [InlineData("""{"query":1,"pos":["a"]}""", "line 3.query")]
    [InlineData("""{"query":"q"}""", "line 3.pos")]
    [InlineData("""{"query":"q","pos":"a"}""", "line 3.pos")]
    [InlineData("""{"query":"q","pos":["a",2]}""", "line 3.pos[1]")]
    public void Reader_rejects_malformed_lines_naming_the_field(string line, string field)
    {
        var ex = Assert.Throws<EngineException>(() => FlagEmbeddingJsonl.Parse(line, 2, "line 3"));
        Assert.Equal(EngineErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal(field, ex.Field);
    }
}

/// <summary>Mining rules on a small vectors-only collection where the geometry is known.</summary>
public sealed class HardNegativeMinerRuleTests
{
    // Document i has vector (1, i/100): the query (1, 0) ranks them by i ascending (cosine decreases with i).
    private static async Task<(CollectionCatalog, Collection)> LineCollectionAsync(int count, Func<int, string>? text = null)
    {
        var catalog = MiningTestData.Catalog();
        var c = catalog.Create(new CollectionSpec("line", EmbeddingModel: "none", Dimension: 2, RerankerModel: "none"));
        await MiningTestData.UpsertAsync(c, Enumerable.Range(0, count).Select(i => new Document($"d{i}", text?.Invoke(i) ?? $"document number {i} about topic {i}",
            new Dictionary<string, MetadataValue> { ["even"] = MetadataValue.Of(i % 2 == 0) }, [1f, i / 100f])));
        return (catalog, c);
    }

    private static MiningExample Example(long index, params string[] pos) => new(index, "the query", pos, QueryVector: [1f, 0f]);

    private static async Task<List<MinedExample>> MineAsync(Collection c, MiningOptions o, params MiningExample[] examples)
    {
        var result = new List<MinedExample>();
        await foreach (var m in new HardNegativeMiner(c, o).MineAsync(examples)) result.Add(m);
        return result;
    }

    [Fact]
    public async Task Fewer_candidates_than_asked_says_so_without_padding()
    {
        var (catalog, c) = await LineCollectionAsync(10);
        await using var _ = catalog;
        var mined = Assert.Single(await MineAsync(c, new MiningOptions(RangeStart: 2, RangeEnd: 200, NegativeNumber: 15), Example(0, "document number 5 about topic 5")));
        // hits[2:] = d2..d9 (8), d5 equals the positive -> 7 negatives.
        Assert.Equal(["d2", "d3", "d4", "d6", "d7", "d8", "d9"], mined.Negatives.Select(n => n.Id));
        Assert.Equal([3, 4, 5, 7, 8, 9, 10], mined.Negatives.Select(n => n.Rank));
        Assert.Equal(new MiningCounts(8, 8, 1, 0, 0, 0), mined.Counts);
        Assert.Equal("found 7 of 15 negatives: the collection returned 10 hits (asked for 200), so 8 lie in ranks 3-200; 1 are positives", mined.Shortfall);
    }

    [Fact]
    public async Task Range_is_a_python_slice_of_the_ranking_and_sampling_is_uniform_over_it()
    {
        var (catalog, c) = await LineCollectionAsync(100);
        await using var _ = catalog;
        var examples = Enumerable.Range(0, 400).Select(i => Example(i, "unrelated positive text")).ToArray();
        var mined = await MineAsync(c, new MiningOptions(RangeStart: 10, RangeEnd: 30, NegativeNumber: 5, Seed: 9), examples);
        var counts = new Dictionary<int, int>();
        foreach (var m in mined)
        {
            Assert.Null(m.Shortfall);
            Assert.Equal(5, m.Negatives.Count);
            Assert.True(m.Negatives.Select(n => n.Rank).SequenceEqual(m.Negatives.Select(n => n.Rank).Order()));
            foreach (var n in m.Negatives)
            {
                Assert.Equal($"d{n.Rank - 1}", n.Id);
                counts[n.Rank] = counts.GetValueOrDefault(n.Rank) + 1;
            }
        }
        Assert.Equal(Enumerable.Range(11, 20), counts.Keys.Order()); // ranks 11..30 only
        Assert.All(counts.Values, v => Assert.InRange(v, 60, 140)); // 400*5/20 = 100 each
    }

    [Fact]
    public async Task Filter_positive_ids_query_text_and_near_duplicates_are_honoured()
    {
        var (catalog, c) = await LineCollectionAsync(40, i => i switch
        {
            3 => "The Query",                                                  // equals the query
            4 => "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu", // near duplicate of the positive
            _ => $"document number {i} about topic {i}",
        });
        await using var _ = catalog;
        const string positive = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu";
        var example = new MiningExample(0, "the query", [positive], PosIds: ["d6"], QueryVector: [1f, 0f]);
        var mined = Assert.Single(await MineAsync(c, new MiningOptions(RangeStart: 0, RangeEnd: 12, NegativeNumber: 20), example));
        Assert.Equal(["d0", "d1", "d2", "d5", "d7", "d8", "d9", "d10", "d11"], mined.Negatives.Select(n => n.Id));
        Assert.Equal([positive, "document number 6 about topic 6"], mined.Pos);
        Assert.Equal(new MiningCounts(12, 12, 1, 1, 1, 0), mined.Counts);
        Assert.Contains("1 are positives; 1 equal the query; 1 nearly duplicate a positive", mined.Shortfall);

        var kept = Assert.Single(await MineAsync(c, new MiningOptions(RangeStart: 0, RangeEnd: 12, NegativeNumber: 20, DropNearDuplicates: false), example));
        Assert.Contains("d4", kept.Negatives.Select(n => n.Id));

        var filtered = Assert.Single(await MineAsync(c, new MiningOptions(RangeStart: 0, RangeEnd: 12, NegativeNumber: 3, Seed: 5,
            Filter: new EqualsFilter("even", MetadataValue.Of(true))), example));
        Assert.Equal(3, filtered.Negatives.Count);
        Assert.All(filtered.Negatives, n => Assert.Equal(0, int.Parse(n.Id[1..], System.Globalization.CultureInfo.InvariantCulture) % 2));
        Assert.All(filtered.Negatives, n => Assert.InRange(n.Rank, 1, 12));
    }

    [Theory]
    [InlineData(-1, 10, 5, null, "range_start")]
    [InlineData(5, 5, 5, null, "range_end")]
    [InlineData(0, 10001, 5, null, "range_end")]
    [InlineData(0, 10, 0, null, "negative_number")]
    [InlineData(0, 10, 1001, null, "negative_number")]
    [InlineData(0, 10, 5, 1.5, "near_duplicate_threshold")]
    public async Task Bad_options_are_rejected_naming_the_field(int start, int end, int negatives, double? threshold, string field)
    {
        var (catalog, c) = await LineCollectionAsync(3);
        await using var _ = catalog;
        var ex = Assert.Throws<EngineException>(() => new HardNegativeMiner(c, new MiningOptions(start, end, negatives, NearDuplicateThreshold: threshold)));
        Assert.Equal(EngineErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal(field, ex.Field);
    }

    [Fact]
    public async Task Bad_examples_and_missing_models_are_rejected()
    {
        var (catalog, c) = await LineCollectionAsync(3);
        await using var _ = catalog;
        var miner = new HardNegativeMiner(c, new MiningOptions());
        Assert.Equal("q[0].query", Assert.Throws<EngineException>(() => miner.Validate(new MiningExample(0, " ", ["p"]), "q[0]")).Field);
        Assert.Equal("q[0].pos", Assert.Throws<EngineException>(() => miner.Validate(new MiningExample(0, "x", []), "q[0]")).Field);
        Assert.Equal("q[0].pos_ids[1]", Assert.Throws<EngineException>(() => miner.Validate(new MiningExample(0, "x", [], ["d1", "nope"]), "q[0]")).Field);
        var noReranker = Assert.Throws<EngineException>(() => new HardNegativeMiner(c, new MiningOptions(FalseNegativeRatio: 0.9)));
        Assert.Equal(EngineErrorKind.FailedPrecondition, noReranker.Kind);
        Assert.Equal("false_negative_ratio", noReranker.Field);
        var noEmbedder = await Assert.ThrowsAsync<EngineException>(() => miner.MineOneAsync(new MiningExample(0, "x", ["p"])));
        Assert.Equal(EngineErrorKind.FailedPrecondition, noEmbedder.Kind);
    }

    [Fact]
    public async Task Cancellation_stops_the_stream()
    {
        var (catalog, c) = await LineCollectionAsync(50);
        await using var _ = catalog;
        using var cts = new CancellationTokenSource();
        var seen = 0;
        var examples = Enumerable.Range(0, 100_000).Select(i => Example(i, "p"));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var m in new HardNegativeMiner(c, new MiningOptions(RangeEnd: 20)).MineAsync(examples, cts.Token))
            {
                if (++seen == 10) await cts.CancelAsync();
            }
        });
        Assert.Equal(10, seen);
    }
}
