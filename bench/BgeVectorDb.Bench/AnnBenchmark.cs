using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BgeVectorDb.Common.Beir;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Index.Hnsw;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Synthetic;

namespace BgeVectorDb.Bench;

/// <summary>
/// ANN benchmark: our <see cref="HnswIndex"/> against native hnswlib (bench/peers/hnswlib_driver.cpp,
/// g++ -O3 -march=native), python3-hnswlib and faiss IndexHNSWFlat, with the same M and ef_construction,
/// on one vector set. Reports recall@10 and single-thread QPS per ef, build time with the same thread
/// count and bytes per vector, then the ratios against native hnswlib (QPS at recall@10 = 0.95,
/// interpolated; build time). Our runs and native hnswlib's are interleaved: the builds slice by slice,
/// the searches block by block of queries (the native driver keeps its index in a child process and
/// answers "add" and "block" commands); sweeps are repeated and QPS are medians.
/// </summary>
internal static class AnnBenchmark
{
    private const string Usage = """
        ann [--set mixture|scifact] [--n N] [--full] [--queries Q] [--m M] [--efc EFC] [--threads T] [--slices S]
            [--ef 10,16,...] [--repeats R] [--seconds S] [--block B] [--no-python] [--clusters C] [--spread S] [--decay D] [--seed X] [--docs N]
          --set       mixture (default): seeded Gaussian mixture, 384-d (see GaussianMixture);
                      scifact: SciFact corpus embedded with the synthetic bge-small model (cached in bench/out/ann)
          --n         points (default 100000); --full = 1,000,000
          --queries   queries (default 1000)
          --m, --efc  HNSW M and ef_construction for every system (default 16, 200)
          --threads   build threads for every system (default: cores)
          --slices    the builds alternate slice by slice, this many slices (default 20)
          --ef        ef sweep (default 10,16,24,32,48,64,96,128,192,256; from 1M points 16,32,...,1024,1536)
          --repeats   interleaved QPS repeats, medians reported (default 3)
          --seconds   each QPS figure runs the query set as many times as our searches need for about this long (default 2)
          --block     queries per interleaving block: ours and hnswlib alternate block by block (default 50)
          --no-python skip python3-hnswlib and faiss
          --clusters/--spread/--decay/--seed  mixture shape (default 64 / 2.5 / 0.2 / 1)
          --docs      scifact: first corpus documents to embed (default 1000, a few minutes on 2 cores; 5183 = all, about an hour)
        """;

    private const int K = 10;

    public static async Task<int> RunAsync(string[] args)
    {
        string set = "mixture";
        int n = 100_000, slices = 20, block = 50, queries = 1000, m = 16, efc = 200, threads = Environment.ProcessorCount, repeats = 3, clusters = 64, seed = 1, docs = 1000;
        double spread = 2.5, decay = 0.2, seconds = 2.0;
        var efs = new[] { 10, 16, 24, 32, 48, 64, 96, 128, 192, 256 };
        var efGiven = false;
        var python = true;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--set": set = Next(); break;
                case "--n": n = NextInt(); break;
                case "--full": n = 1_000_000; break;
                case "--queries": queries = NextInt(); break;
                case "--slices": slices = Math.Max(1, NextInt()); break;
                case "--m": m = NextInt(); break;
                case "--efc": efc = NextInt(); break;
                case "--threads": threads = NextInt(); break;
                case "--ef": efGiven = true; efs = Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                case "--repeats": repeats = Math.Max(1, NextInt()); break;
                case "--block": block = Math.Max(1, NextInt()); break;
                case "--seconds": seconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--no-python": python = false; break;
                case "--clusters": clusters = NextInt(); break;
                case "--spread": spread = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--decay": decay = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--seed": seed = NextInt(); break;
                case "--docs": docs = NextInt(); break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default: Console.Error.WriteLine($"Unknown option {args[i]}\n{Usage}"); return 2;
            }
        }

        // The 1M set is much harder at the same M (recall@10 about 0.64 at ef 64): sweep further out.
        if (n >= 1_000_000 && !efGiven) efs = [16, 32, 64, 128, 192, 256, 384, 512, 768, 1024, 1536];
        float[][] data, qs;
        string label;
        if (set == "scifact")
        {
            (data, qs) = await SciFactAsync(docs);
            label = $"scifact: {data.Length} SciFact docs x {data[0].Length} (synthetic bge-small), {qs.Length} SciFact queries";
        }
        else
        {
            var mixture = new GaussianMixture(384, clusters, spread, decay, seed);
            data = mixture.Generate(n);
            qs = mixture.Generate(queries, stream: 1);
            label = $"mixture: {n} x 384, {queries} queries, {clusters} clusters, spread {spread}, decay {decay}, seed {seed}";
        }
        var dim = data[0].Length;
        Console.WriteLine($"ann ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC): {label}; M={m} ef_construction={efc} build threads={threads}, " +
                          $"{Environment.ProcessorCount} cores, kernels {Kernels.VectorWidthBits}-bit, k={K}, {repeats} interleaved repeats");

        var sw = Stopwatch.StartNew();
        var truth = GroundTruth(data, qs);
        Console.WriteLine($"ground truth (exact, {threads} threads): {sw.Elapsed.TotalSeconds:F1} s");
        var dir = Path.Combine(BenchPaths.Out, "ann", $"{set}-{data.Length}");
        Directory.CreateDirectory(dir);
        var (dataPath, queryPath, truthPath) = (Path.Combine(dir, "data.bin"), Path.Combine(dir, "queries.bin"), Path.Combine(dir, "truth.bin"));
        WriteVectors(dataPath, data);
        WriteVectors(queryPath, qs);
        WriteTruth(truthPath, truth);

        // Build, interleaved: both indexes grow slice by slice (the same points in the same id order),
        // who goes first alternating per slice, so load changes on a shared machine hit both builds alike.
        var index = new HnswIndex(dim, DistanceKind.Dot, m, efc);
        var driverPath = Path.Combine(BenchPaths.RepoRoot, "bench", "peers", "hnswlib_driver");
        NativeDriver? native = null;
        if (File.Exists(driverPath)) native = NativeDriver.Start(driverPath, dataPath, queryPath, truthPath, m, efc, threads);
        else Console.WriteLine($"native hnswlib driver not found at {driverPath}: run bash bench/peers/install.sh");
        var sliceSize = (data.Length + slices - 1) / slices;
        double ourBuild = 0, nativeBuild = 0;
        var sliceRatios = new List<double>();
        for (int start = 0, s = 0; start < data.Length; start += sliceSize, s++)
        {
            var end = Math.Min(data.Length, start + sliceSize);
            double ours = 0, theirs = 0;
            for (var turn = 0; turn < 2; turn++)
            {
                if ((turn + s) % 2 == 0)
                {
                    sw.Restart();
                    Parallel.For(start, end, new ParallelOptions { MaxDegreeOfParallelism = threads }, i => index.Upsert(i, data[i]));
                    ours = sw.Elapsed.TotalSeconds;
                }
                else if (native is not null)
                {
                    theirs = native.Add(end - start);
                }
            }
            ourBuild += ours;
            nativeBuild += theirs;
            if (native is not null) sliceRatios.Add(ours / theirs);
        }
        var ourBytes = (double)index.MemoryBytes / data.Length;
        Console.WriteLine($"bgevectordb-hnsw     build {ourBuild,8:F2} s   {ourBytes,8:F0} bytes/vector");
        var nativeBytes = native?.BytesPerVector() ?? 0;
        if (native is not null)
        {
            Console.WriteLine($"hnswlib-native       build {nativeBuild,8:F2} s   {nativeBytes,8:F0} bytes/vector");
            Console.WriteLine($"build interleaved in {sliceRatios.Count} slices of {sliceSize}: time ratio ours/hnswlib {ourBuild / nativeBuild:F3} " +
                              $"(per slice: median {Median(sliceRatios):F3}, min {sliceRatios.Min():F3}, max {sliceRatios.Max():F3})");
        }

        // Searches, interleaved finely: at each ef the query set is cut into blocks of --block queries
        // and every block runs on ours and on hnswlib back to back (who goes first alternating), so both
        // sample the same moments of a shared machine; each side times only its own searches. One sweep
        // runs enough passes over the query set for about --seconds of our searching per ef (sized by a
        // warm-up pass); the sweep is repeated and QPS are medians of the repeats.
        var passes = new Dictionary<int, int>();
        foreach (var ef in efs)
        {
            var warm = new BlockTotals();
            RunOurs(index, qs, truth, ef, 0, qs.Length, warm);
            passes[ef] = Math.Clamp((int)Math.Ceiling(seconds / warm.Seconds), 1, 100);
            native?.Run(ef, 0, qs.Length, new BlockTotals());
        }
        var ourQps = efs.ToDictionary(e => e, _ => new List<double>());
        var nativeQps = efs.ToDictionary(e => e, _ => new List<double>());
        var ourRecall = new Dictionary<int, double>();
        var nativeRecall = new Dictionary<int, double>();
        for (var r = 0; r < repeats; r++)
        {
            foreach (var ef in efs)
            {
                var ours = new BlockTotals();
                var theirs = new BlockTotals();
                var turn = r;
                for (var p = 0; p < passes[ef]; p++)
                {
                    for (var from = 0; from < qs.Length; from += block, turn++)
                    {
                        var count = Math.Min(block, qs.Length - from);
                        var oursFirst = turn % 2 == 0 || native is null;
                        if (oursFirst) RunOurs(index, qs, truth, ef, from, count, ours);
                        native?.Run(ef, from, count, theirs);
                        if (!oursFirst) RunOurs(index, qs, truth, ef, from, count, ours);
                    }
                }
                ourRecall[ef] = ours.Recall;
                ourQps[ef].Add(ours.Qps);
                if (native is not null)
                {
                    nativeRecall[ef] = theirs.Recall;
                    nativeQps[ef].Add(theirs.Qps);
                }
                Console.WriteLine($"  repeat {r + 1} ef {ef,4} x{passes[ef]}: ours {ours.Recall:F4} / {ours.Qps,7:F0} QPS" +
                                  (native is null ? "" : $"   hnswlib {theirs.Recall:F4} / {theirs.Qps,7:F0} QPS   ratio {ours.Qps / theirs.Qps:F3}"));
            }
        }
        native?.Dispose();

        var curves = new List<(string System, List<(int Ef, double Recall, double Qps)> Points, double BuildS, double Bytes)>
        {
            ("bgevectordb-hnsw", efs.Select(e => (e, ourRecall[e], Median(ourQps[e]))).ToList(), ourBuild, ourBytes),
        };
        if (native is not null)
        {
            curves.Add(("hnswlib-native", efs.Select(e => (e, nativeRecall[e], Median(nativeQps[e]))).ToList(), nativeBuild, nativeBytes));
        }
        if (python) curves.AddRange(RunPython(dataPath, queryPath, truthPath, m, efc, threads, efs));

        Console.WriteLine();
        Console.WriteLine($"{"system",-22} {"ef",5} {"recall@10",10} {"QPS (1 thread)",15}");
        foreach (var (system, points, _, _) in curves)
        {
            foreach (var (ef, recall, qps) in points) Console.WriteLine($"{system,-22} {ef,5} {recall,10:F4} {qps,15:F0}");
        }
        Console.WriteLine();
        Console.WriteLine($"{"system",-22} {"build s",9} {"bytes/vector",13} {"QPS @ recall 0.95",18}");
        foreach (var (system, points, build, bytes) in curves)
        {
            var at = QpsAtRecall(points, 0.95);
            Console.WriteLine($"{system,-22} {build,9:F2} {bytes,13:F0} {(at is null ? "n/a" : at.Value.ToString("F0", CultureInfo.InvariantCulture)),18}");
        }

        var ours95 = QpsAtRecall(curves[0].Points, 0.95);
        var native95 = native is null ? null : QpsAtRecall(curves[1].Points, 0.95);
        // The same ratio within each repeat (both sweeps ran side by side), and its median: steadier
        // than the ratio of medians when the machine's speed drifts between repeats.
        var repeatRatios = new List<double>();
        for (var r = 0; native is not null && r < repeats; r++)
        {
            var o = QpsAtRecall(efs.Select(e => (e, ourRecall[e], ourQps[e][r])).ToList(), 0.95);
            var t = QpsAtRecall(efs.Select(e => (e, nativeRecall[e], nativeQps[e][r])).ToList(), 0.95);
            if (o is { } a1 && t is { } b1) repeatRatios.Add(a1 / b1);
        }
        if (repeatRatios.Count > 0)
        {
            Console.WriteLine($"QPS ratio ours/hnswlib at recall 0.95 per repeat: {string.Join(", ", repeatRatios.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)))} (median {Median(repeatRatios):F3})");
        }
        var summary = new Dictionary<string, object?>
        {
            ["command"] = "ann",
            ["set"] = set,
            ["n"] = data.Length,
            ["dim"] = dim,
            ["m"] = m,
            ["ef_construction"] = efc,
            ["threads"] = threads,
            ["repeats"] = repeats,
            ["ours_qps_at_recall_0.95"] = Round(ours95),
            ["hnswlib_qps_at_recall_0.95"] = Round(native95),
            ["qps_ratio_at_recall_0.95"] = ours95 is { } a && native95 is { } b ? Math.Round(a / b, 3) : null,
            ["qps_ratio_at_recall_0.95_per_repeat_median"] = repeatRatios.Count > 0 ? Math.Round(Median(repeatRatios), 3) : null,
            // Per ef (recalls within about 0.01 of each other): the only ratio there is when a small set
            // is above recall 0.95 already at the lowest ef.
            ["qps_ratio_per_ef"] = native is null ? null : efs.ToDictionary(e => e.ToString(CultureInfo.InvariantCulture), e => Math.Round(Median(ourQps[e]) / Median(nativeQps[e]), 3)),
            ["ours_build_s"] = Math.Round(ourBuild, 2),
            ["hnswlib_build_s"] = native is null ? null : Math.Round(nativeBuild, 2),
            ["build_time_ratio"] = native is null ? null : Math.Round(ourBuild / nativeBuild, 3),
            ["build_slices"] = sliceRatios.Count,
            ["build_slice_ratio_median"] = native is null ? null : Math.Round(Median(sliceRatios), 3),
            ["ours_bytes_per_vector"] = Math.Round(ourBytes),
            ["hnswlib_bytes_per_vector"] = native is null ? null : Math.Round(nativeBytes),
            ["hnswlib_recall_at_ef16"] = native is not null && nativeRecall.TryGetValue(16, out var r16) ? Math.Round(r16, 4) : null,
        };
        Console.WriteLine();
        Console.WriteLine(JsonSerializer.Serialize(summary));
        return 0;
    }

    private static double? Round(double? x) => x is { } v ? Math.Round(v, 1) : null;

    private static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>QPS at the target recall: log-QPS interpolated linearly in recall between the two sweep
    /// points around it (sorted by recall); null when the sweep does not reach the target or starts above it.</summary>
    internal static double? QpsAtRecall(List<(int Ef, double Recall, double Qps)> points, double target)
    {
        var p = points.OrderBy(x => x.Recall).ThenByDescending(x => x.Qps).ToList();
        for (var i = 0; i + 1 < p.Count; i++)
        {
            if (p[i].Recall <= target && p[i + 1].Recall >= target)
            {
                if (p[i + 1].Recall == p[i].Recall) return Math.Max(p[i].Qps, p[i + 1].Qps);
                var t = (target - p[i].Recall) / (p[i + 1].Recall - p[i].Recall);
                return Math.Exp(Math.Log(p[i].Qps) + t * (Math.Log(p[i + 1].Qps) - Math.Log(p[i].Qps)));
            }
        }
        return null;
    }

    /// <summary>Search time and true-top-k hits summed over the blocks of one measurement.</summary>
    private sealed class BlockTotals
    {
        public double Seconds;
        public long Hits;
        public long Queries;

        public double Recall => Queries == 0 ? 0 : (double)Hits / (Queries * K);

        public double Qps => Queries / Seconds;
    }

    private static void RunOurs(HnswIndex index, float[][] queries, int[][] truth, int ef, int from, int count, BlockTotals totals)
    {
        var results = new ScoredId[count][];
        var sw = Stopwatch.StartNew();
        for (var q = 0; q < count; q++) results[q] = index.Search(queries[from + q], K, null, ef);
        totals.Seconds += sw.Elapsed.TotalSeconds;
        for (var q = 0; q < count; q++)
        {
            var want = truth[from + q];
            totals.Hits += results[q].Count(h => Array.IndexOf(want, h.Id) >= 0);
        }
        totals.Queries += count;
    }

    private static int[][] GroundTruth(float[][] data, float[][] queries)
    {
        var truth = new int[queries.Length][];
        Parallel.For(0, queries.Length, q =>
        {
            var exact = new ExactTopK(K);
            for (var i = 0; i < data.Length; i++) exact.Offer(i, Kernels.Dot(queries[q], data[i]));
            truth[q] = exact.Ids();
        });
        return truth;
    }

    private sealed class ExactTopK(int k)
    {
        private readonly PriorityQueue<int, float> _heap = new();

        public void Offer(int id, float score)
        {
            if (_heap.Count < k) _heap.Enqueue(id, score);
            else if (_heap.TryPeek(out _, out var worst) && score > worst) _heap.DequeueEnqueue(id, score);
        }

        public int[] Ids()
        {
            var ids = new int[_heap.Count];
            for (var i = ids.Length - 1; i >= 0; i--) ids[i] = _heap.Dequeue();
            return ids;
        }
    }

    private static void WriteVectors(string path, float[][] vectors)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(vectors.Length);
        w.Write(vectors[0].Length);
        foreach (var v in vectors)
        {
            foreach (var x in v) w.Write(x);
        }
    }

    private static void WriteTruth(string path, int[][] truth)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(truth.Length);
        w.Write(K);
        foreach (var t in truth)
        {
            for (var i = 0; i < K; i++) w.Write(i < t.Length ? t[i] : -1);
        }
    }

    private static IEnumerable<(string, List<(int, double, double)>, double, double)> RunPython(string data, string queries, string truth, int m, int efc, int threads, int[] efs)
    {
        var script = Path.Combine(BenchPaths.RepoRoot, "bench", "peers", "py_peers.py");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, data, queries, truth, m.ToString(CultureInfo.InvariantCulture), efc.ToString(CultureInfo.InvariantCulture),
                     threads.ToString(CultureInfo.InvariantCulture), string.Join(',', efs) })
        {
            psi.ArgumentList.Add(a);
        }
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.WriteLine($"python peers skipped: {e.Message}");
            return [];
        }
        var curves = new Dictionary<string, (List<(int, double, double)> Points, double Build, double Bytes)>();
        var stderr = process.StandardError.ReadToEndAsync();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var system = root.GetProperty("system").GetString()!;
            if (root.TryGetProperty("build_s", out var b))
            {
                curves[system] = ([], b.GetDouble(), root.GetProperty("bytes_per_vector").GetDouble());
                Console.WriteLine($"{system,-20} build {b.GetDouble(),8:F2} s");
            }
            else
            {
                curves[system].Points.Add((root.GetProperty("ef").GetInt32(), root.GetProperty("recall").GetDouble(), root.GetProperty("qps").GetDouble()));
            }
        }
        process.WaitForExit();
        if (process.ExitCode != 0) Console.WriteLine($"python peers failed ({process.ExitCode}): {stderr.Result.Trim()}");
        return curves.Select(c => (c.Key, c.Value.Points, c.Value.Build, c.Value.Bytes)).ToList();
    }

    /// <summary>SciFact corpus (title + text) and queries (with the bge query instruction) embedded by
    /// the synthetic bge-small model, cached under bench/out/ann.</summary>
    private static async Task<(float[][] Data, float[][] Queries)> SciFactAsync(int docs)
    {
        var cacheDir = Path.Combine(BenchPaths.Out, "ann");
        Directory.CreateDirectory(cacheDir);
        var texts = BenchPaths.SciFactTexts(docs);
        var cacheData = Path.Combine(cacheDir, $"scifact-docs-{texts.Length}.f32");
        var cacheQueries = Path.Combine(cacheDir, "scifact-queries.f32");
        if (File.Exists(cacheData) && File.Exists(cacheQueries)) return (ReadVectors(cacheData), ReadVectors(cacheQueries));

        var factory = new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });
        using var embedder = BgeEmbedder.Load(EmbedBenchmark.EnsureModel(), "synthetic/bge-small-en-v1.5", factory, new BgeEmbedderOptions());
        var queryTexts = BeirReader.ReadQueries(BenchPaths.SciFact).Select(q => embedder.DefaultQueryInstruction + q.Text).ToArray();
        Console.WriteLine($"embedding {texts.Length} SciFact docs and {queryTexts.Length} queries with the synthetic bge-small model (cached afterwards) ...");
        var sw = Stopwatch.StartNew();
        var data = new List<float[]>();
        for (var i = 0; i < texts.Length; i += 256) data.AddRange(await embedder.EmbedDocumentsAsync(texts[i..Math.Min(texts.Length, i + 256)]));
        var queries = await embedder.EmbedDocumentsAsync(queryTexts);
        Console.WriteLine($"embedded in {sw.Elapsed.TotalSeconds:F0} s");
        foreach (var v in data) Core.Primitives.VectorMath.NormalizeInPlace(v);
        foreach (var v in queries) Core.Primitives.VectorMath.NormalizeInPlace(v);
        WriteVectors(cacheData, [.. data]);
        WriteVectors(cacheQueries, queries);
        return ([.. data], queries);
    }

    private static float[][] ReadVectors(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        var n = r.ReadInt32();
        var dim = r.ReadInt32();
        var result = new float[n][];
        for (var i = 0; i < n; i++)
        {
            result[i] = new float[dim];
            for (var j = 0; j < dim; j++) result[i][j] = r.ReadSingle();
        }
        return result;
    }

    /// <summary>The native hnswlib driver process: adds points on "add N", searches on "block", reports "bytes".</summary>
    private sealed class NativeDriver : IDisposable
    {
        private readonly Process _process;

        private NativeDriver(Process process) => _process = process;

        public static NativeDriver Start(string path, string data, string queries, string truth, int m, int efc, int threads)
        {
            var psi = new ProcessStartInfo(path) { RedirectStandardInput = true, RedirectStandardOutput = true };
            foreach (var a in new[] { data, queries, truth, m.ToString(CultureInfo.InvariantCulture), efc.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture) })
            {
                psi.ArgumentList.Add(a);
            }
            var driver = new NativeDriver(Process.Start(psi)!);
            driver.ReadReply("ready");
            return driver;
        }

        /// <summary>Adds the next <paramref name="count"/> points; returns the seconds the driver measured.</summary>
        public double Add(int count) => double.Parse(Send($"add {count}", "added")[2], CultureInfo.InvariantCulture);

        public double BytesPerVector() => double.Parse(Send("bytes", "bytes")[1], CultureInfo.InvariantCulture);

        /// <summary>Runs queries [from, from + count) at <paramref name="ef"/>; adds the driver's own timing and hits.</summary>
        public void Run(int ef, int from, int count, BlockTotals totals)
        {
            var parts = Send($"block {ef} {from} {count}", "block");
            totals.Seconds += double.Parse(parts[1], CultureInfo.InvariantCulture);
            totals.Hits += long.Parse(parts[2], CultureInfo.InvariantCulture);
            totals.Queries += count;
        }

        private string[] Send(string command, string reply)
        {
            _process.StandardInput.WriteLine(command);
            _process.StandardInput.Flush();
            return ReadReply(reply);
        }

        private string[] ReadReply(string reply)
        {
            var line = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("hnswlib driver exited");
            var parts = line.Split(' ');
            if (parts[0] != reply) throw new InvalidOperationException($"hnswlib driver: expected '{reply} ...', got '{line}'");
            return parts;
        }

        public void Dispose()
        {
            try
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
                _process.WaitForExit(10_000);
            }
            finally
            {
                _process.Dispose();
            }
        }
    }
}
