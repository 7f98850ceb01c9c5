using System.Text.Json;
using BgeVectorDb.Common.Beir;
using BgeVectorDb.Core.Inference;
using BeirMiningInput = BgeVectorDb.Common.Mining.BeirMiningInput;
using FlagEmbeddingJsonl = BgeVectorDb.Common.Mining.FlagEmbeddingJsonl;
using MiningExample = BgeVectorDb.Common.Mining.MiningExample;
using MiningOptions = BgeVectorDb.Core.Mining.MiningOptions;
using BgeVectorDb.Core.Reranking;
using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Cli;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;

namespace BgeVectorDb.Server.Tests;

/// <summary>A server with the tiny synthetic models and a collection of SciFact documents holding the
/// positives of the first train queries.</summary>
public sealed class MiningServerFixture : IAsyncLifetime
{
    public const string CollectionName = "mine";
    public const int QueryCount = 16;

    private readonly ModelServerFixture _server = new();

    public ServerProcess Server => _server.Server;

    public string ModelsFolder => _server.ModelsFolder;

    public TempDirectory Dir => _server.Dir;

    /// <summary>The first train queries (qrels order), all positives stored.</summary>
    public IReadOnlyList<MiningExample> Examples { get; private set; } = [];

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        Examples = BeirMiningInput.Read(SharedData.SciFact, "train").Take(QueryCount).ToArray();
        var wanted = Examples.SelectMany(e => e.PosIds!).ToHashSet();
        var corpus = BeirReader.ReadCorpus(SharedData.SciFact).Where((d, i) => i < 250 || wanted.Contains(d.Id)).ToList();
        await new Collections.CollectionsClient(Server.Channel).CreateCollectionAsync(new CreateCollectionRequest { Name = CollectionName });
        var documents = new Documents.DocumentsClient(Server.Channel);
        foreach (var chunk in corpus.Chunk(100))
        {
            var request = new UpsertRequest { Collection = CollectionName };
            foreach (var d in chunk)
            {
                var doc = new Document { Id = d.Id, Text = d.FullText };
                doc.Metadata["odd"] = new Value { BoolValue = (d.Id.Last() - '0') % 2 == 1 };
                request.Documents.Add(doc);
            }
            await documents.UpsertAsync(request);
        }
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();
}

public sealed class MiningEndToEndTests(MiningServerFixture fixture) : IClassFixture<MiningServerFixture>
{
    private const int Negatives = 6;

    private Mining.MiningClient Client => new(fixture.Server.Channel);

    private MineRequest Request(IEnumerable<MiningExample> examples, ulong firstIndex = 0)
    {
        var request = new MineRequest
        {
            Collection = MiningServerFixture.CollectionName,
            RangeStart = 2,
            RangeEnd = 40,
            NegativeNumber = Negatives,
            Seed = 7,
            FalseNegativeRatio = 1f,
            WithScores = true,
            FirstIndex = firstIndex,
        };
        foreach (var e in examples)
        {
            var q = new MiningQuery { Query = e.Query, QueryId = e.QueryId ?? "" };
            q.PosIds.AddRange(e.PosIds ?? []);
            q.Pos.AddRange(e.Pos);
            request.Queries.Add(q);
        }
        return request;
    }

    private async Task<List<MinedExample>> MineAsync(MineRequest request)
    {
        using var call = Client.MineHardNegatives(request);
        var result = new List<MinedExample>();
        await foreach (var m in call.ResponseStream.ReadAllAsync()) result.Add(m);
        return result;
    }

    [Fact]
    public async Task Stream_gives_one_example_per_query_in_order_with_reranker_filter_scores_and_provenance()
    {
        var request = Request(fixture.Examples);
        request.Queries[0].ExtraJson = """{"prompt":"Represent: ","type":"normal"}""";
        var mined = await MineAsync(request);

        Assert.Equal(Enumerable.Range(0, fixture.Examples.Count).Select(i => (ulong)i), mined.Select(m => m.Index));
        var factory = new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });
        using var reranker = CrossEncoderReranker.Load(Path.Combine(fixture.ModelsFolder, TestData.RerankerModelId), TestData.RerankerModelId, factory);
        for (var i = 0; i < mined.Count; i++)
        {
            var m = mined[i];
            var e = fixture.Examples[i];
            Assert.Equal(e.Query, m.Query);
            Assert.Equal(e.QueryId, m.QueryId);
            Assert.Equal(e.PosIds!.Count, m.Pos.Count);
            Assert.All(m.Neg, n => Assert.DoesNotContain(n, m.Pos));
            Assert.All(m.Negatives, n => Assert.DoesNotContain(n.Id, e.PosIds!));
            Assert.Equal(m.Neg.Count, m.Negatives.Count);
            if (m.Neg.Count < Negatives) Assert.StartsWith($"found {m.Neg.Count} of {Negatives} negatives: ", m.Shortfall);
            else Assert.Equal("", m.Shortfall);
            Assert.All(m.Negatives, n => Assert.InRange(n.Rank, 3u, 40u));
            Assert.True(m.Negatives.Select(n => n.Rank).SequenceEqual(m.Negatives.Select(n => n.Rank).Order()));

            // The filter: every kept negative is at or below the threshold derived from the positives' scores.
            Assert.True(m.HasFalseNegativeThreshold);
            var minProbability = m.PosScores.Min(s => 1 / (1 + Math.Exp(-s)));
            var p = minProbability;
            Assert.Equal((float)Math.Log(p / (1 - p)), m.FalseNegativeThreshold, 1e-4f);
            Assert.All(m.Negatives, n => Assert.True(n.RerankScore <= m.FalseNegativeThreshold));
            Assert.Equal(m.Negatives.Select(n => n.RerankScore), m.NegScores);

            // Scores are the cross-encoder's (an independent in-process run agrees).
            var posScores = await reranker.ScoreAsync(m.Query, m.Pos.ToArray());
            var negScores = await reranker.ScoreAsync(m.Query, m.Neg.ToArray());
            for (var j = 0; j < posScores.Length; j++) Assert.Equal(posScores[j], m.PosScores[j], 1e-4f);
            for (var j = 0; j < negScores.Length; j++) Assert.Equal(negScores[j], m.NegScores[j], 1e-4f);

            // The JSONL line carries the same example.
            using var line = JsonDocument.Parse(m.Jsonl);
            var root = line.RootElement;
            Assert.Equal(m.Query, root.GetProperty("query").GetString());
            Assert.Equal(m.Neg, root.GetProperty("neg").EnumerateArray().Select(x => x.GetString()));
            Assert.Equal(m.NegScores, root.GetProperty("neg_scores").EnumerateArray().Select(x => x.GetSingle()));
            Assert.Equal(m.Negatives.Select(n => n.Id), root.GetProperty("bgevdb").GetProperty("negatives").EnumerateArray().Select(x => x.GetProperty("id").GetString()));
        }
        Assert.StartsWith("""{"query":""", mined[0].Jsonl);
        Assert.Contains(""","prompt":"Represent: ","type":"normal","bgevdb":""", mined[0].Jsonl);
        // The random synthetic cross-encoder scores everything alike: at ratio 1 it drops some candidates, keeps others.
        Assert.Contains(mined, m => m.Counts.DroppedFalseNegative > 0);
        Assert.Contains(mined, m => m.Neg.Count == Negatives);

        // The same job split into two calls with first_index gives the same bytes.
        var head = Request(fixture.Examples.Take(7));
        head.Queries[0].ExtraJson = request.Queries[0].ExtraJson;
        var split = (await MineAsync(head)).Concat(await MineAsync(Request(fixture.Examples.Skip(7), firstIndex: 7))).ToList();
        Assert.Equal(mined.Select(m => m.Jsonl), split.Select(m => m.Jsonl));
    }

    [Fact]
    public async Task Cancelling_the_call_stops_the_stream_and_the_server_keeps_serving()
    {
        var big = Request(Enumerable.Range(0, 40).SelectMany(_ => fixture.Examples).Select((e, i) => e with { Index = i }));
        using var cts = new CancellationTokenSource();
        using var call = Client.MineHardNegatives(big, cancellationToken: cts.Token);
        var received = 0;
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync(cts.Token))
            {
                if (++received == 2) await cts.CancelAsync();
            }
        });
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        Assert.Equal(2, received);

        var after = await MineAsync(Request(fixture.Examples.Take(2)));
        Assert.Equal(2, after.Count);
        var health = await new Grpc.Health.V1.Health.HealthClient(fixture.Server.Channel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public async Task Filter_restricts_candidates()
    {
        var request = Request(fixture.Examples.Take(5));
        request.ClearFalseNegativeRatio();
        request.WithScores = false;
        request.Filter = new Filter { Field = new FieldCondition { Key = "odd", Equals_ = new Value { BoolValue = true } } };
        var mined = await MineAsync(request);
        Assert.Equal(5, mined.Count);
        Assert.All(mined, m => Assert.All(m.Negatives, n => Assert.Equal(1, (n.Id.Last() - '0') % 2)));
        Assert.All(mined, m => Assert.Empty(m.NegScores));
        Assert.All(mined, m => Assert.All(m.Negatives, n => Assert.False(n.HasRerankScore)));
    }

    [Fact]
    public async Task Bad_input_is_rejected_naming_the_field_before_anything_is_streamed()
    {
        async Task Fails(StatusCode code, Action<MineRequest> change, string? field = null)
        {
            var request = Request(fixture.Examples.Take(2));
            change(request);
            await RpcAssert.FailsAsync(code, () => MineAsync(request), field);
        }
        await Fails(StatusCode.InvalidArgument, r => r.Queries.Clear(), "queries");
        await Fails(StatusCode.InvalidArgument, r => r.NegativeNumber = 5000, "negative_number");
        await Fails(StatusCode.InvalidArgument, r => { r.RangeStart = 10; r.RangeEnd = 5; }, "range_end");
        await Fails(StatusCode.InvalidArgument, r => r.RangeEnd = 1_000_000, "range_end");
        await Fails(StatusCode.InvalidArgument, r => r.FalseNegativeRatio = 2, "false_negative_ratio");
        await Fails(StatusCode.InvalidArgument, r => r.NearDuplicateThreshold = 1.5f, "near_duplicate_threshold");
        await Fails(StatusCode.InvalidArgument, r => r.Queries[1].Query = " ", "queries[1].query");
        await Fails(StatusCode.InvalidArgument, r => r.Queries[0].PosIds.Clear(), "queries[0].pos");
        await Fails(StatusCode.InvalidArgument, r => r.Queries[1].PosIds.Insert(0, "no-such-doc"), "queries[1].pos_ids[0]");
        await Fails(StatusCode.InvalidArgument, r => r.Queries[0].ExtraJson = "[1]", "queries[0].extra_json");
        await Fails(StatusCode.InvalidArgument, r => r.Queries[0].ExtraJson = """{"neg":[]}""", "queries[0].extra_json");
        await Fails(StatusCode.InvalidArgument, r => r.Filter = new Filter(), "filter");
        await Fails(StatusCode.NotFound, r => r.Collection = "nope");

        await new Collections.CollectionsClient(fixture.Server.Channel).CreateCollectionAsync(new CreateCollectionRequest
        {
            Name = "vectors-only",
            Config = new CollectionConfig { EmbeddingModel = "none", RerankerModel = "none", Dimension = 4 },
        });
        var ex = await RpcAssert.FailsAsync(StatusCode.FailedPrecondition, () => MineAsync(new MineRequest
        {
            Collection = "vectors-only",
            WithScores = true,
            Queries = { new MiningQuery { Query = "q", Pos = { "p" } } },
        }));
        Assert.Contains("no reranker", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_mine_writes_the_same_lines_as_the_service_with_a_progress_bar()
    {
        var folder = fixture.Dir.Sub("cli-beir");
        Directory.CreateDirectory(Path.Combine(folder, "qrels"));
        File.Copy(Path.Combine(SharedData.SciFact, "queries.jsonl"), Path.Combine(folder, "queries.jsonl"), overwrite: true);
        // The first train queries only (their positives are stored).
        var qrels = File.ReadLines(Path.Combine(SharedData.SciFact, "qrels", "train.tsv")).Take(1 + 8).ToList();
        File.WriteAllLines(Path.Combine(folder, "qrels", "train.tsv"), qrels);
        var output = Path.Combine(fixture.Dir.Path, "mined.jsonl");

        var run = await CliRun.RunAsync("mine", MiningServerFixture.CollectionName, "--beir", folder, "-o", output, "--range", "2-40",
            "-n", Negatives.ToString(System.Globalization.CultureInfo.InvariantCulture), "--seed", "7", "--false-negative-ratio", "1",
            "--with-scores", "--chunk", "5", "--server", fixture.Server.Address);
        Assert.True(run.ExitCode == 0, run.ToString());
        var examples = BeirMiningInput.Read(folder, "train");
        var lines = File.ReadAllLines(output);
        Assert.Equal(examples.Count, lines.Length);
        var direct = await MineAsync(Request(examples));
        Assert.Equal(direct.Select(m => m.Jsonl), lines);
        Assert.Matches(@"\[#+\] +\d+/\d+ 100%  [0-9.]+ queries/s  ETA 0s", run.Stderr);
        Assert.Matches($@"^mined {examples.Count} queries in [0-9.]+ s \([0-9.]+ queries/s\): \d+ with {Negatives} negatives, \d+ short", run.Stdout);
        Assert.False(File.Exists(output + ".partial"));

        // FlagEmbedding JSONL in: extra fields survive, the output reads back as input.
        var input = Path.Combine(fixture.Dir.Path, "train.jsonl");
        File.WriteAllLines(input, lines.Take(3).Select(l =>
        {
            var e = FlagEmbeddingJsonl.Parse(l, 0, "x");
            return JsonSerializer.Serialize(new { query = e.Query, pos = e.Pos, neg = e.Neg, prompt = "p" });
        }));
        var output2 = Path.Combine(fixture.Dir.Path, "mined2.jsonl");
        run = await CliRun.RunAsync("mine", MiningServerFixture.CollectionName, "--jsonl", input, "-o", output2, "--server", fixture.Server.Address);
        Assert.True(run.ExitCode == 0, run.ToString());
        var round = File.ReadAllLines(output2).Select((l, i) => FlagEmbeddingJsonl.Parse(l, i, "line")).ToList();
        Assert.Equal(3, round.Count);
        Assert.All(round, e => Assert.Equal("p", e.Extra!["prompt"]!.GetValue<string>()));
        Assert.All(round, e => Assert.Equal(MiningOptions.DefaultNegativeNumber, e.Neg!.Count));

        // A bad input line is reported with its file and line; nothing is left behind.
        File.AppendAllLines(input, ["{\"query\": \"q\"}"]);
        run = await CliRun.RunAsync("mine", MiningServerFixture.CollectionName, "--jsonl", input, "-o", output2 + ".bad", "--server", fixture.Server.Address);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{input}:4.pos: missing", run.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output2 + ".bad"));
    }
}
