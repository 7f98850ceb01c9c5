using System.Diagnostics;
using System.Globalization;
using BgeVectorDb.Common.Beir;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Batching;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Reranking;
using BgeVectorDb.Core.Search;
using BgeVectorDb.Synthetic;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Bench;

/// <summary>
/// Query latency of the search pipeline (instruction + embed -> ANN top-N -> one cross-encoder pass over the N
/// pairs -> top-k) over SciFact test queries, on a bge-small-shaped synthetic embedder and a MiniLM-L6-shaped
/// synthetic cross-encoder: p50/p95/p99 with and without rerank, and the share of the time spent inside
/// ONNX Runtime (InferenceSession.Run). Then query latency while documents are ingested concurrently (same
/// embedding model, one shared scheduler), with the scheduler's ingest cap and without it, and ingest throughput.
/// </summary>
internal static class LatencyBenchmark
{
    private const string EmbedderId = "synthetic/bge-small-en-v1.5";
    private const string RerankerId = "synthetic/ms-marco-MiniLM-L-6-v2";

    private const string Usage = """
        latency [--docs N] [--queries N] [--rerank-queries N] [--candidates N] [--k K] [--ingest-docs N] [--ingest-clients C]
                [--threads T] [--max-batch-tokens K] [--ingest-batch-ms M] [--skip-mixed]
          --docs                    SciFact corpus documents in the searched collection (default 500; 5183 = all). Their
                                    vectors are cached in bench/out/cache after the first run.
          --queries                 SciFact test queries (qrels/test.tsv) searched without rerank (default 300 = all)
          --rerank-queries          of those, searched with rerank (default 20: each reranks 100 pairs)
          --candidates              ANN candidates reranked (default 100)
          --k                       hits returned (default 10)
          --ingest-docs             documents embedded by the concurrent-ingest phases (default 200)
          --ingest-clients          concurrent ingest callers, batches of 50 documents each (default 2)
          --threads                 ONNX Runtime intra-op threads per session (default: cores)
          --max-batch-tokens        scheduler token budget (default 16384)
          --ingest-batch-ms         target duration of an ingest batch (default 250; the mixed phase repeats with 0 = full budget)
          --skip-mixed              only the latency phases
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        int docs = 500, queryCount = 300, rerankQueries = 20, candidates = 100, k = 10, ingestDocs = 200, ingestClients = 2;
        int threads = 0, maxTokens = 16384, ingestMs = 250;
        bool skipMixed = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--docs": docs = NextInt(); break;
                case "--queries": queryCount = NextInt(); break;
                case "--rerank-queries": rerankQueries = NextInt(); break;
                case "--candidates": candidates = NextInt(); break;
                case "--k": k = NextInt(); break;
                case "--ingest-docs": ingestDocs = NextInt(); break;
                case "--ingest-clients": ingestClients = Math.Max(1, NextInt()); break;
                case "--threads": threads = NextInt(); break;
                case "--max-batch-tokens": maxTokens = NextInt(); break;
                case "--ingest-batch-ms": ingestMs = NextInt(); break;
                case "--skip-mixed": skipMixed = true; break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default: Console.Error.WriteLine($"Unknown option {args[i]}\n{Usage}"); return 2;
            }
        }

        var embedFolder = EnsureModel("bge-small", "bge-small-synthetic");
        var rerankFolder = EnsureModel("minilm-l6-cross", "minilm-l6-cross-synthetic");
        var corpus = BenchPaths.SciFactTexts(Math.Max(docs, ingestDocs));
        var queries = ReadTestQueries(queryCount);
        var factory = new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = threads });
        var scheduler = new InferenceBatcherOptions { MaxBatchTokens = maxTokens, IngestBatchMilliseconds = ingestMs };
        using var embedder = BgeEmbedder.Load(embedFolder, EmbedderId, factory, new BgeEmbedderOptions { Batching = scheduler });
        using var reranker = CrossEncoderReranker.Load(rerankFolder, RerankerId, factory, new CrossEncoderOptions { Batching = scheduler });

        Console.WriteLine($"latency ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC): synthetic bge-small (12x384) + synthetic MiniLM-L6 cross-encoder (6x384), " +
                          $"random weights, provider {factory.ExecutionProvider.Provider}, {factory.IntraOpThreads} intra-op threads per session, " +
                          $"{Environment.ProcessorCount} cores, budget {maxTokens} tokens, ingest batches of ~{ingestMs} ms");

        var vectors = await CorpusVectorsAsync(embedder, corpus[..docs]);
        await using var catalog = CollectionCatalog.Open(null, new FixedModelProvider(embedder, reranker), new EngineLimits(), NullLogger.Instance);
        var collection = catalog.Create(new CollectionSpec("scifact", EmbedderId, RerankerModel: RerankerId));
        await UpsertVectorsAsync(collection, corpus[..docs], vectors);
        Console.WriteLine($"  collection: {docs} SciFact documents; query instruction \"{collection.Config.QueryInstruction}\"");

        // Warm-up: sessions, arenas, JIT.
        foreach (var q in queries.Take(3))
        {
            await collection.SearchAsync(new TextQuery(q, new SearchOptions(k, candidates), Rerank: true));
        }

        var plain = await MeasureAsync(collection, queries, k, candidates, rerank: false, [embedder.Model]);
        plain.Print($"no rerank, {plain.Count} queries, k={k}");
        var reranked = await MeasureAsync(collection, queries.Take(rerankQueries).ToArray(), k, candidates, rerank: true, [embedder.Model, reranker.Model]);
        reranked.Print($"rerank {candidates} candidates, {reranked.Count} queries, k={k}");

        if (!skipMixed)
        {
            var ingestTexts = corpus[..ingestDocs];
            var alone = await IngestAsync(catalog, "ingest-alone", ingestTexts, ingestClients);
            Console.WriteLine($"  ingest alone: {ingestDocs} docs by {ingestClients} clients in {alone:F1} s = {ingestDocs / alone:F1} texts/s");
            await MixedAsync($"ingest batches of ~{ingestMs} ms", embedder, catalog, collection, queries, ingestTexts, ingestClients, k, alone, plain);

            // The same with ingest batches using the whole token budget: what a query waits for when an ingest batch
            // of 16k tokens is in flight.
            var uncapped = new InferenceBatcherOptions { MaxBatchTokens = maxTokens, IngestBatchMilliseconds = 0 };
            using var uncappedEmbedder = BgeEmbedder.Load(embedFolder, EmbedderId, factory, new BgeEmbedderOptions { Batching = uncapped });
            await using var uncappedCatalog = CollectionCatalog.Open(null, new FixedModelProvider(uncappedEmbedder, reranker), new EngineLimits(), NullLogger.Instance);
            var uncappedCollection = uncappedCatalog.Create(new CollectionSpec("scifact", EmbedderId, RerankerModel: RerankerId));
            await UpsertVectorsAsync(uncappedCollection, corpus[..docs], vectors);
            await uncappedCollection.SearchAsync(new TextQuery(queries[0], new SearchOptions(k), Rerank: false));
            await MixedAsync($"ingest batches of {maxTokens} tokens (--ingest-batch-ms 0)", uncappedEmbedder, uncappedCatalog, uncappedCollection, queries,
                ingestTexts, ingestClients, k, alone, plain);
        }

        return 0;
    }

    private sealed record Measurement(double[] LatenciesMs, double OrtShare, double EmbedMs, double AnnMs, double FetchMs, double RerankMs)
    {
        public int Count => LatenciesMs.Length;

        public void Print(string title)
        {
            Console.WriteLine($"  {title}: p50 {Percentile(LatenciesMs, 50):F1} ms, p95 {Percentile(LatenciesMs, 95):F1} ms, " +
                              $"p99 {Percentile(LatenciesMs, 99):F1} ms, max {LatenciesMs.Max():F1} ms; inside ONNX Runtime {OrtShare:P1} of the time (goal >= 85%)");
            Console.WriteLine($"    stage medians: embed {EmbedMs:F1} ms, ann {AnnMs:F2} ms, fetch {FetchMs:F2} ms, rerank {RerankMs:F1} ms");
        }
    }

    /// <summary>Sequential searches (one at a time, so each model run belongs to the query being timed).</summary>
    private static async Task<Measurement> MeasureAsync(Collection collection, string[] queries, int k, int candidates, bool rerank, OnnxModel[] models)
    {
        var latencies = new double[queries.Length];
        var embed = new double[queries.Length];
        var ann = new double[queries.Length];
        var fetch = new double[queries.Length];
        var rerankMs = new double[queries.Length];
        var ortBefore = models.Sum(m => m.SessionRunTime.TotalMilliseconds);
        for (int i = 0; i < queries.Length; i++)
        {
            long t = Stopwatch.GetTimestamp();
            var result = await collection.SearchAsync(new TextQuery(queries[i], new SearchOptions(k, candidates), Rerank: rerank));
            latencies[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
            if (result.Hits.Count != Math.Min(k, collection.Count) || result.Reranked != rerank)
            {
                throw new InvalidOperationException($"query {i}: {result.Hits.Count} hits, reranked {result.Reranked}");
            }

            (embed[i], ann[i], fetch[i], rerankMs[i]) = (result.Timings.EmbedUs / 1000.0, result.Timings.AnnUs / 1000.0,
                result.Timings.FetchUs / 1000.0, result.Timings.RerankUs / 1000.0);
        }

        var ort = models.Sum(m => m.SessionRunTime.TotalMilliseconds) - ortBefore;
        return new Measurement(latencies, ort / latencies.Sum(), Percentile(embed, 50), Percentile(ann, 50), Percentile(fetch, 50), Percentile(rerankMs, 50));
    }

    /// <summary>Embeds <paramref name="texts"/> into a new collection with <paramref name="clients"/> concurrent
    /// callers (batches of 50 documents); returns the seconds taken.</summary>
    private static async Task<double> IngestAsync(CollectionCatalog catalog, string name, string[] texts, int clients)
    {
        var target = catalog.Create(new CollectionSpec(name, EmbedderId, RerankerModel: CollectionConfig.None));
        var batches = texts.Select((t, i) => new Document($"d{i}", t, Document.NoMetadata)).Chunk(50).ToArray();
        int next = -1;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            for (int b; (b = Interlocked.Increment(ref next)) < batches.Length;)
            {
                await target.UpsertAsync(batches[b]);
            }
        })));
        return sw.Elapsed.TotalSeconds;
    }

    private static async Task MixedAsync(string title, BgeEmbedder embedder, CollectionCatalog catalog, Collection collection, string[] queries,
        string[] ingestTexts, int clients, int k, double aloneSeconds, Measurement alone)
    {
        var before = embedder.Statistics;
        using var stop = new CancellationTokenSource();
        var ingest = Task.Run(async () =>
        {
            try
            {
                return await IngestAsync(catalog, "ingest-" + Guid.NewGuid().ToString("N")[..8], ingestTexts, clients);
            }
            finally
            {
                stop.Cancel();
            }
        });
        var latencies = new List<double>();
        await Task.Delay(200); // let ingest batches start
        for (int i = 0; !stop.IsCancellationRequested; i++)
        {
            long t = Stopwatch.GetTimestamp();
            await collection.SearchAsync(new TextQuery(queries[i % queries.Length], new SearchOptions(k), Rerank: false));
            latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        double seconds = await ingest;
        var after = embedder.Statistics;
        var during = latencies.ToArray();
        Console.WriteLine($"  concurrent ingest + queries, {title}:");
        Console.WriteLine($"    ingest {ingestTexts.Length} docs by {clients} clients in {seconds:F1} s = {ingestTexts.Length / seconds:F1} texts/s " +
                          $"({aloneSeconds / seconds:P0} of ingest alone); {after.Batches - before.Batches} batches, " +
                          $"{(double)(after.PaddedTokens - before.PaddedTokens) / Math.Max(1, after.Batches - before.Batches):F0} padded tokens per batch");
        Console.WriteLine($"    {during.Length} queries (no rerank) during ingest: p50 {Percentile(during, 50):F1} ms, p95 {Percentile(during, 95):F1} ms, " +
                          $"p99 {Percentile(during, 99):F1} ms, max {during.Max():F1} ms");
        Console.WriteLine($"    same queries without ingest:     p50 {Percentile(alone.LatenciesMs, 50):F1} ms, p95 {Percentile(alone.LatenciesMs, 95):F1} ms, " +
                          $"p99 {Percentile(alone.LatenciesMs, 99):F1} ms, max {alone.LatenciesMs.Max():F1} ms; p95 ratio during/without " +
                          $"{Percentile(during, 95) / Percentile(alone.LatenciesMs, 95):F1}x");
    }

    private static async Task UpsertVectorsAsync(Collection collection, string[] texts, float[][] vectors)
    {
        foreach (var chunk in Enumerable.Range(0, texts.Length).Chunk(500))
        {
            await collection.UpsertAsync(chunk.Select(i => new Document($"doc{i}", texts[i], Document.NoMetadata, vectors[i])).ToArray());
        }
    }

    /// <summary>The corpus vectors, from bench/out/cache when a previous run embedded them (same model, same texts).</summary>
    private static async Task<float[][]> CorpusVectorsAsync(BgeEmbedder embedder, string[] texts)
    {
        var cache = Path.Combine(BenchPaths.Out, "cache", $"scifact-bge-small-synthetic-{texts.Length}.f32");
        if (File.Exists(cache))
        {
            using var reader = new BinaryReader(File.OpenRead(cache));
            int count = reader.ReadInt32(), dim = reader.ReadInt32();
            if (count == texts.Length && dim == embedder.Dimension)
            {
                var cached = new float[count][];
                for (int i = 0; i < count; i++)
                {
                    cached[i] = new float[dim];
                    for (int j = 0; j < dim; j++)
                    {
                        cached[i][j] = reader.ReadSingle();
                    }
                }

                Console.WriteLine($"  corpus vectors: {count} from {cache}");
                return cached;
            }
        }

        var sw = Stopwatch.StartNew();
        var vectors = new List<float[]>(texts.Length);
        foreach (var chunk in texts.Chunk(100))
        {
            vectors.AddRange(await embedder.EmbedDocumentsAsync(chunk));
            if (!Console.IsOutputRedirected)
            {
                Console.Write($"\r  embedding the corpus: {vectors.Count}/{texts.Length} ({vectors.Count / sw.Elapsed.TotalSeconds:F1} texts/s)");
            }
        }

        Console.WriteLine($"{(Console.IsOutputRedirected ? "" : "\n")}  corpus vectors: {texts.Length} embedded in {sw.Elapsed.TotalSeconds:F1} s " +
                          $"({texts.Length / sw.Elapsed.TotalSeconds:F1} texts/s, ingest alone); cached in {cache}");
        Directory.CreateDirectory(Path.GetDirectoryName(cache)!);
        using (var writer = new BinaryWriter(File.Create(cache)))
        {
            writer.Write(vectors.Count);
            writer.Write(embedder.Dimension);
            foreach (var v in vectors)
            {
                foreach (var x in v)
                {
                    writer.Write(x);
                }
            }
        }

        return [.. vectors];
    }

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    private static string EnsureModel(string preset, string folderName)
    {
        var folder = Path.Combine(BenchPaths.Out, "models", folderName);
        if (File.Exists(Path.Combine(folder, SyntheticModelGenerator.OnnxRelativePath)) && File.Exists(Path.Combine(folder, "config.json")))
        {
            return folder;
        }

        var vocab = Path.Combine(BenchPaths.SharedData, "tokenizer-bert-base-uncased", "vocab.txt");
        if (!File.Exists(vocab))
        {
            throw new FileNotFoundException($"bert-base-uncased vocab not found at {vocab} (set BGE_SHARED_DATA)", vocab);
        }

        Console.WriteLine($"Generating the synthetic {preset} model into {folder} (once) ...");
        return SyntheticModelGenerator.Write(SyntheticModelSpec.Preset(preset), folder, vocab);
    }

    /// <summary>The texts of the distinct query ids of qrels/test.tsv, in file order.</summary>
    private static string[] ReadTestQueries(int count)
    {
        var texts = BeirReader.ReadQueries(BenchPaths.SciFact).ToDictionary(q => q.Id, q => q.Text, StringComparer.Ordinal);
        return BeirReader.ReadQrels(BenchPaths.SciFact, "test").Select(q => q.QueryId).Distinct().Take(count).Select(id => texts[id]).ToArray();
    }
}
