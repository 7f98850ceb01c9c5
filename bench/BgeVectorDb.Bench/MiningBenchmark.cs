using System.Diagnostics;
using System.Globalization;
using BgeVectorDb.Common.Beir;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Common.Mining;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Mining;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Reranking;
using BgeVectorDb.Synthetic;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Bench;

/// <summary>
/// Hard-negative mining throughput (queries/s) of <see cref="HardNegativeMiner"/> on SciFact train queries
/// (qrels/train.tsv, qrels order) against an in-memory collection, with a synthetic bge-small-shaped embedder
/// for the queries, without and with the cross-encoder false-negative filter (synthetic MiniLM-L6-shaped
/// cross-encoder). Runs alternate between the two variants; medians are reported.
/// </summary>
internal static class MiningBenchmark
{
    private const string Usage = """
        mining-throughput [--queries N] [--ce-queries N] [--docs N] [--doc-max-length L] [--repeat R] [--ratio X]
                          [--negatives K] [--range A-B] [--parallelism P] [--threads T]
          --queries         train queries mined per run without the cross-encoder filter (default 200; 809 = all)
          --ce-queries      train queries mined per run with the filter (default 10)
          --docs            SciFact documents in the collection besides the positives of the mined queries (default 300)
          --doc-max-length  tokens per document when embedding the collection (default 64; set-up only, not timed)
          --repeat          runs of each variant, interleaved (default 3)
          --ratio           false_negative_ratio of the filtered variant (default 1.0; see bench/README.md)
          --negatives       negative_number (default 15)
          --range           range_for_sampling (default 2-200)
          --parallelism     queries mined at once (default 4)
          --threads         ONNX Runtime intra-op threads per session (default: cores)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        int queries = 200, ceQueries = 10, docs = 300, docMaxLength = 64, repeat = 3, negatives = 15, rangeStart = 2, rangeEnd = 200, parallelism = 4, threads = 0;
        var ratio = 1.0;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--queries": queries = Int(); break;
                case "--ce-queries": ceQueries = Int(); break;
                case "--docs": docs = Int(); break;
                case "--doc-max-length": docMaxLength = Int(); break;
                case "--repeat": repeat = Math.Max(1, Int()); break;
                case "--ratio": ratio = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--negatives": negatives = Int(); break;
                case "--range":
                    var parts = Next().Split('-');
                    rangeStart = int.Parse(parts[0], CultureInfo.InvariantCulture);
                    rangeEnd = int.Parse(parts[1], CultureInfo.InvariantCulture);
                    break;
                case "--parallelism": parallelism = Int(); break;
                case "--threads": threads = Int(); break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default: Console.Error.WriteLine($"Unknown option {args[i]}\n{Usage}"); return 2;
            }
        }

        var scifact = BenchPaths.SciFact;
        var examples = BeirMiningInput.Read(scifact, "train");
        var mined = examples.Take(Math.Max(queries, ceQueries)).ToArray();
        var wanted = mined.SelectMany(e => e.PosIds!).ToHashSet(StringComparer.Ordinal);
        var corpus = BeirReader.ReadCorpus(scifact).Where((d, i) => i < docs || wanted.Contains(d.Id)).ToArray();

        var factory = new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = threads });
        using var embedder = BgeEmbedder.Load(EnsureModel("bge-small", "bge-small-synthetic"), "synthetic/bge-small-en-v1.5", factory);
        using var reranker = CrossEncoderReranker.Load(EnsureModel("minilm-l6-cross", "minilm-l6-cross-synthetic"), "synthetic/ms-marco-MiniLM-L-6-v2", factory);
        using var docEmbedder = BgeEmbedder.Load(EnsureModel("bge-small", "bge-small-synthetic"), "synthetic/bge-small-en-v1.5", factory,
            new BgeEmbedderOptions { MaxLength = docMaxLength });

        Console.WriteLine($"mining-throughput ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC): SciFact train, {corpus.Length} docs in the collection " +
                          $"({wanted.Count} positives + first {docs}), synthetic bge-small embedder (12x384) and MiniLM-L6 cross-encoder (6x384), random weights, " +
                          $"cpu, {factory.IntraOpThreads} intra-op threads, {Environment.ProcessorCount} cores, range {rangeStart}-{rangeEnd}, {negatives} negatives, parallelism {parallelism}");

        var sw = Stopwatch.StartNew();
        await using var catalog = CollectionCatalog.Open(null, new FixedModelProvider(embedder, reranker), new EngineLimits(), NullLogger.Instance);
        var collection = catalog.Create(new CollectionSpec("scifact"));
        foreach (var chunk in corpus.Chunk(64))
        {
            var vectors = await docEmbedder.EmbedDocumentsAsync(chunk.Select(d => d.FullText).ToArray());
            await collection.UpsertAsync(chunk.Select((d, j) => new Document(d.Id, d.FullText, Document.NoMetadata, vectors[j])).ToArray());
        }
        Console.WriteLine($"  set-up: {corpus.Length} documents embedded (max {docMaxLength} tokens) and stored in {sw.Elapsed.TotalSeconds:0.0} s");

        var plain = new MiningOptions(rangeStart, rangeEnd, negatives, Seed: 1, Parallelism: parallelism);
        var filtered = plain with { FalseNegativeRatio = ratio };
        await RunOnceAsync(collection, plain, mined.Take(8)); // warm-up: sessions, arenas
        await RunOnceAsync(collection, filtered, mined.Take(1));

        var plainRates = new List<double>();
        var filteredRates = new List<double>();
        for (var r = 0; r < repeat; r++)
        {
            var a = await RunOnceAsync(collection, plain, mined.Take(queries));
            plainRates.Add(a.Rate);
            Console.WriteLine($"  run {r + 1}: no filter   {a.Count,4} queries in {a.Seconds,7:0.00} s = {a.Rate,7:0.00} queries/s ({a.Short} short)");
            var b = await RunOnceAsync(collection, filtered, mined.Take(ceQueries));
            filteredRates.Add(b.Rate);
            Console.WriteLine($"  run {r + 1}: ratio {ratio:0.00}  {b.Count,4} queries in {b.Seconds,7:0.00} s = {b.Rate,7:0.00} queries/s ({b.Short} short, " +
                              $"{b.Reranked / (double)b.Count:0.0} candidates reranked per query, {b.Dropped} dropped as false negatives)");
        }
        var mp = Median(plainRates);
        var mf = Median(filteredRates);
        Console.WriteLine($"  median: {mp:0.00} queries/s without the filter, {mf:0.00} queries/s with it (ratio {mf / mp:0.000})");
        return 0;
    }

    private sealed record RunResult(int Count, double Seconds, int Short, long Reranked, long Dropped)
    {
        public double Rate => Count / Seconds;
    }

    private static async Task<RunResult> RunOnceAsync(Collection collection, MiningOptions options, IEnumerable<MiningExample> examples)
    {
        var miner = new HardNegativeMiner(collection, options);
        var sw = Stopwatch.StartNew();
        int count = 0, shortLines = 0;
        long reranked = 0, dropped = 0;
        await foreach (var m in miner.MineAsync(examples))
        {
            count++;
            if (m.Shortfall is not null) shortLines++;
            if (options.FalseNegativeRatio is not null)
            {
                reranked += m.Counts.Examined - m.Counts.DroppedPositive - m.Counts.DroppedQuery - m.Counts.DroppedNearDuplicate + m.Pos.Count;
                dropped += m.Counts.DroppedFalseNegative;
            }
        }
        return new RunResult(count, sw.Elapsed.TotalSeconds, shortLines, reranked, dropped);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string EnsureModel(string preset, string name)
    {
        var folder = Path.Combine(BenchPaths.Out, "models", name);
        if (File.Exists(Path.Combine(folder, SyntheticModelGenerator.OnnxRelativePath)) && File.Exists(Path.Combine(folder, "config.json")))
        {
            return folder;
        }
        var vocab = Path.Combine(BenchPaths.SharedData, "tokenizer-bert-base-uncased", "vocab.txt");
        if (!File.Exists(vocab)) throw new FileNotFoundException($"bert-base-uncased vocab not found at {vocab} (set BGE_SHARED_DATA)", vocab);
        Console.WriteLine($"Generating the synthetic {preset} model into {folder} (once) ...");
        return SyntheticModelGenerator.Write(SyntheticModelSpec.Preset(preset), folder, vocab);
    }

}
