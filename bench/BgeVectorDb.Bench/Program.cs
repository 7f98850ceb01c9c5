using BgeVectorDb.Bench;

// Command dispatcher of the end-to-end harnesses. Usage: dotnet run -c Release --project bench/BgeVectorDb.Bench -- <command> [options]
var commands = new Dictionary<string, (string Help, Func<string[], Task<int>> Run)>(StringComparer.OrdinalIgnoreCase)
{
    ["embed"] = ("embedding throughput: BgeEmbedder vs a raw ONNX Runtime loop over the same batches", EmbedBenchmark.RunAsync),
    ["ann"] = ("ANN: our HNSW vs native hnswlib, python3-hnswlib and faiss HNSW (recall@10, QPS per ef, build time, bytes/vector)", AnnBenchmark.RunAsync),
    ["kernels"] = ("BenchmarkDotNet: HNSW distance kernels vs TensorPrimitives.Dot at 384/768/1024 dimensions", KernelBenchmarks.RunAsync),
    ["vectormath"] = ("BenchmarkDotNet: VectorMath's two L2 normalisations (double scalar vs float TensorPrimitives) at 384/768/1024 dimensions", VectorMathBenchmarks.RunAsync),
    ["durability"] = ("durable ingest (WAL, group commit) vs durability off: throughput ratio, vectors supplied", DurabilityBenchmark.RunAsync),
    ["generations"] = ("store rewrites (new generations) under concurrent writes: rewrite time, write hold, write latency during rewrites vs incremental checkpoints, disk", GenerationsBenchmark.RunAsync),
    ["recovery"] = ("recovery time and memory after reopening an N x 384 collection; bytes on disk per vector", RecoveryBenchmark.RunAsync),
    ["mining-throughput"] = ("hard-negative mining queries/s on SciFact train, without and with the cross-encoder filter", MiningBenchmark.RunAsync),
    ["latency"] = ("search latency p50/p95/p99 with/without rerank, ONNX Runtime share, query latency under concurrent ingest", LatencyBenchmark.RunAsync),
    ["quality"] = ("retrieval quality of real bi-encoders on SciFact / MS MARCO subset: nDCG@10, recall@100, MRR@10, HNSW vs exact, vs published", QualityBenchmark.RunAsync),
    ["load"] = ("N concurrent clients: streamed ingest + searches against a real server on loopback; throughput, p50/p99, errors", LoadBenchmark.RunAsync),
};

if (args.Length == 0 || args[0] is "-h" or "--help" || !commands.TryGetValue(args[0], out var command))
{
    if (args.Length > 0 && args[0] is not ("-h" or "--help"))
    {
        Console.Error.WriteLine($"Unknown command '{args[0]}'.");
    }

    Console.Error.WriteLine("Usage: BgeVectorDb.Bench <command> [options]   (<command> --help for its options)");
    foreach (var (name, (help, _)) in commands)
    {
        Console.Error.WriteLine($"  {name,-8} {help}");
    }

    return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
}

return await command.Run(args[1..]);
