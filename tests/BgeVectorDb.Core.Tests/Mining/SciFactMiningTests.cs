using System.Text;
using System.Text.Json;
using BgeVectorDb.Common.Mining;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Mining;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Tests.Mining;

/// <summary>The SciFact corpus in a vectors-only collection (hashed bag-of-words vectors) and the 809
/// train queries (qrels/train.tsv), mined once with seed 42.</summary>
public sealed class SciFactMiningFixture : IAsyncLifetime
{
    public CollectionCatalog Catalog { get; } = MiningTestData.Catalog();

    public Collection Collection { get; private set; } = null!;

    public IReadOnlyList<MiningExample> Examples { get; private set; } = [];

    public IReadOnlyList<string> Lines { get; private set; } = [];

    public static MiningOptions Options(ulong seed) => new(Seed: seed);

    public async Task InitializeAsync()
    {
        Collection = Catalog.Create(new CollectionSpec("scifact", EmbeddingModel: "none", Dimension: MiningTestData.HashDimension, RerankerModel: "none"));
        await MiningTestData.UpsertAsync(Collection, MiningTestData.Corpus.Select(d =>
            new Document(d.Id, d.Text, Document.NoMetadata, MiningTestData.HashVector(d.Text))));
        Examples = BeirMiningInput.Read(MiningTestData.SciFact, "train")
            .Select(e => e with { QueryVector = MiningTestData.HashVector(e.Query) }).ToArray();
        Lines = await MineAsync(Examples, Options(42));
    }

    public async Task<IReadOnlyList<string>> MineAsync(IEnumerable<MiningExample> examples, MiningOptions options)
    {
        var miner = new HardNegativeMiner(Collection, options);
        var lines = new List<string>();
        await foreach (var mined in miner.MineAsync(examples)) lines.Add(FlagEmbeddingJsonl.Format(mined));
        return lines;
    }

    public async Task DisposeAsync() => await Catalog.DisposeAsync();
}

public sealed class SciFactMiningTests(SciFactMiningFixture f) : IClassFixture<SciFactMiningFixture>
{
    private const int Negatives = MiningOptions.DefaultNegativeNumber;

    [Fact]
    public void Every_train_query_gives_one_line_keeping_its_query_and_positives()
    {
        Assert.Equal(809, f.Examples.Count);
        Assert.Equal(809, f.Lines.Count);
        var texts = MiningTestData.Corpus.ToDictionary(d => d.Id, d => d.Text);
        for (var i = 0; i < f.Lines.Count; i++)
        {
            using var doc = JsonDocument.Parse(f.Lines[i]);
            var root = doc.RootElement;
            Assert.Equal(f.Examples[i].Query, root.GetProperty("query").GetString());
            Assert.Equal(f.Examples[i].PosIds!.Select(id => texts[id]), root.GetProperty("pos").EnumerateArray().Select(p => p.GetString()));
            Assert.Equal(f.Examples[i].QueryId, root.GetProperty("bgevdb").GetProperty("query_id").GetString());
            Assert.Equal(f.Examples[i].PosIds!, root.GetProperty("bgevdb").GetProperty("pos_ids").EnumerateArray().Select(p => p.GetString()));
        }
    }

    [Fact]
    public void No_negative_is_a_positive_and_the_count_is_negative_number_unless_the_line_says_why()
    {
        var shortLines = 0;
        for (var i = 0; i < f.Lines.Count; i++)
        {
            using var doc = JsonDocument.Parse(f.Lines[i]);
            var root = doc.RootElement;
            var pos = root.GetProperty("pos").EnumerateArray().Select(p => p.GetString()).ToHashSet();
            var neg = root.GetProperty("neg").EnumerateArray().Select(p => p.GetString()!).ToList();
            var prov = root.GetProperty("bgevdb");
            var ids = prov.GetProperty("negatives").EnumerateArray().Select(n => n.GetProperty("id").GetString()!).ToList();
            Assert.All(neg, n => Assert.DoesNotContain(n, pos));
            Assert.All(ids, id => Assert.DoesNotContain(id, f.Examples[i].PosIds!));
            Assert.Equal(neg.Count, ids.Count);
            Assert.Equal(ids.Count, ids.Distinct().Count());
            Assert.Equal(Negatives, prov.GetProperty("requested").GetInt32());
            if (neg.Count < Negatives)
            {
                shortLines++;
                Assert.StartsWith($"found {neg.Count} of {Negatives} negatives: ", prov.GetProperty("shortfall").GetString());
            }
            else
            {
                Assert.Equal(Negatives, neg.Count);
                Assert.False(prov.TryGetProperty("shortfall", out _));
            }
        }
        // 198 candidates in range against a handful of positives: every line is full here.
        Assert.Equal(0, shortLines);
    }

    [Fact]
    public void Every_negative_rank_lies_in_the_range_checked_against_an_independent_exact_search()
    {
        var corpus = MiningTestData.Corpus;
        var exact = new ExactIndex(MiningTestData.HashDimension, DistanceKind.Cosine);
        for (var i = 0; i < corpus.Count; i++)
        {
            var v = MiningTestData.HashVector(corpus[i].Text);
            VectorMath.NormalizeInPlace(v);
            exact.Upsert(i, v);
        }
        var indexIsExact = f.Collection.GetStatistics().IndexKind == exact.Kind;
        for (var i = 0; i < f.Lines.Count; i++)
        {
            var q = MiningTestData.HashVector(f.Examples[i].Query);
            VectorMath.NormalizeInPlace(q);
            var truth = exact.Search(q, 400);
            var exactScore = new Dictionary<string, float>();
            foreach (var t in truth) exactScore[corpus[t.Id].Id] = t.Score;

            using var doc = JsonDocument.Parse(f.Lines[i]);
            foreach (var n in doc.RootElement.GetProperty("bgevdb").GetProperty("negatives").EnumerateArray())
            {
                var rank = n.GetProperty("rank").GetInt32();
                Assert.InRange(rank, 3, 200); // hits[2:200]
                Assert.True(exactScore.TryGetValue(n.GetProperty("id").GetString()!, out var trueScore), $"line {i}: negative outside the exact top 400");
                Assert.Equal(trueScore, n.GetProperty("ann_score").GetSingle(), 1e-5f);
                // Exact ranks as an interval: kernels may round near-ties differently, so documents within
                // 1e-5 of this score may sit on either side of it.
                var strictlyBetter = truth.Count(t => t.Score > trueScore + 1e-5f);
                var atLeastAsGood = truth.Count(t => t.Score >= trueScore - 1e-5f);
                // An ANN index can only miss better hits, so it never ranks a document below its exact rank
                // and never places it in the exact top 2; the exact index must agree with the exact ranks.
                Assert.True(atLeastAsGood > 2 && rank <= atLeastAsGood, $"line {i}: rank {rank}, exact ranks {strictlyBetter + 1}..{atLeastAsGood}");
                if (indexIsExact) Assert.InRange(rank, strictlyBetter + 1, atLeastAsGood);
            }
        }
    }

    [Fact]
    public async Task Same_seed_gives_byte_identical_output_whatever_the_parallelism_or_split_and_another_seed_differs()
    {
        var again = await f.MineAsync(f.Examples, SciFactMiningFixture.Options(42) with { Parallelism = 1 });
        Assert.Equal(Encoding.UTF8.GetBytes(string.Join('\n', f.Lines)), Encoding.UTF8.GetBytes(string.Join('\n', again)));

        // Two separate jobs over the halves (indices kept) give the same lines.
        var first = await f.MineAsync(f.Examples.Take(400), SciFactMiningFixture.Options(42) with { Parallelism = 7 });
        var second = await f.MineAsync(f.Examples.Skip(400), SciFactMiningFixture.Options(42) with { Parallelism = 2 });
        Assert.Equal(f.Lines, first.Concat(second));

        var other = await f.MineAsync(f.Examples.Take(200), SciFactMiningFixture.Options(43));
        Assert.True(other.Zip(f.Lines).Count(p => p.First != p.Second) > 180, "another seed should change almost every sample");
    }

    [Fact]
    public void Output_parses_as_FlagEmbedding_input_through_the_reader_and_a_plain_json_parse()
    {
        for (var i = 0; i < f.Lines.Count; i++)
        {
            var parsed = FlagEmbeddingJsonl.Parse(f.Lines[i], i, $"line {i + 1}");
            using var doc = JsonDocument.Parse(f.Lines[i]);
            var root = doc.RootElement;
            Assert.Equal(JsonValueKind.Object, root.ValueKind);
            Assert.Equal(JsonValueKind.String, root.GetProperty("query").ValueKind);
            foreach (var key in new[] { "pos", "neg" })
            {
                Assert.Equal(JsonValueKind.Array, root.GetProperty(key).ValueKind);
                Assert.All(root.GetProperty(key).EnumerateArray(), e => Assert.Equal(JsonValueKind.String, e.ValueKind));
            }
            Assert.Equal(JsonValueKind.Object, root.GetProperty("bgevdb").ValueKind);
            Assert.Equal(root.GetProperty("query").GetString(), parsed.Query);
            Assert.Equal(root.GetProperty("pos").EnumerateArray().Select(e => e.GetString()), parsed.Pos);
            Assert.Equal(root.GetProperty("neg").EnumerateArray().Select(e => e.GetString()), parsed.Neg!);
            Assert.Null(parsed.Extra); // provenance is regenerated, not carried as an extra field
        }
    }
}
