using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using BgeVectorDb.Protos.V1;
using BgeVectorDb.Synthetic;
using Grpc.Core;
using Grpc.Net.Client;

namespace BgeVectorDb.Bench;

/// <summary>
/// Load test: a real bgevectordb-server on loopback, N concurrent clients doing a mix of client-streamed
/// ingest and searches for a fixed time, then throughput, p50/p99 per operation and the error count.
/// </summary>
internal static partial class LoadBenchmark
{
    private const string Usage = """
        load [--duration S] [--clients N] [--ingest-share P] [--models none|tiny] [--dim D] [--preload N] [--max-docs N]
             [--batch B] [--batches-per-stream S] [--k K] [--recall-rate R] [--sample S] [--soak]
          --duration            seconds of load after the preload (default 60; the 5-minute goal run: 300)
          --clients             concurrent clients, one shared HTTP/2 channel (default 8)
          --ingest-share        share of operations that are an ingest stream (default 0.2); the rest are searches
          --models              none: vectors-only collection, searches by vector (default);
                                tiny: the tiny synthetic BGE-shaped models, text ingest embedded by the server,
                                text searches with rerank (needs ../shared/data for the vocab)
          --dim                 vector dimension with --models none (default 384, as bge-small)
          --preload             documents written before the clock starts (default 5000)
          --max-docs            ids cycle within this many documents: later writes replace (default 20000)
          --batch               documents per streamed batch (default 50)
          --batches-per-stream  batches per ingest stream, each acked before the stream ends (default 4)
          --k                   hits per search (default 10)
          --recall-rate         Metrics:RecallSampleRate of the server (default 0.01)
          --sample              every S seconds print the server's memory from its metrics: RSS, GC heap, GC committed,
                                documents, index memory, WAL (default 0 = off)
          --soak                the 30-minute soak: --duration 1800 --sample 30 (later options still override)
        """;

    private sealed record Options(int DurationS, int Clients, double IngestShare, bool Models, int Dim, int Preload, int MaxDocs,
        int Batch, int BatchesPerStream, int K, double RecallRate, int SampleS = 0);

    public static async Task<int> RunAsync(string[] args)
    {
        var o = new Options(60, 8, 0.2, false, 384, 5000, 20000, 50, 4, 10, 0.01);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            double Dbl() => double.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--duration": o = o with { DurationS = Int() }; break;
                case "--clients": o = o with { Clients = Int() }; break;
                case "--ingest-share": o = o with { IngestShare = Dbl() }; break;
                case "--models": o = o with { Models = Next() switch { "tiny" => true, "none" => false, var m => throw new ArgumentException($"--models {m}: use none or tiny") } }; break;
                case "--dim": o = o with { Dim = Int() }; break;
                case "--preload": o = o with { Preload = Int() }; break;
                case "--max-docs": o = o with { MaxDocs = Int() }; break;
                case "--batch": o = o with { Batch = Int() }; break;
                case "--batches-per-stream": o = o with { BatchesPerStream = Int() }; break;
                case "--k": o = o with { K = Int() }; break;
                case "--recall-rate": o = o with { RecallRate = Dbl() }; break;
                case "--sample": o = o with { SampleS = Int() }; break;
                case "--soak": o = o with { DurationS = 1800, SampleS = 30 }; break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default: Console.Error.WriteLine($"Unknown option {args[i]}\n{Usage}"); return 2;
            }
        }
        if (o.DurationS < 1 || o.Clients < 1 || o.IngestShare is < 0 or > 1 || o.Batch < 1 || o.BatchesPerStream < 1 || o.MaxDocs < o.Batch || o.K < 1)
        {
            Console.Error.WriteLine("invalid options\n" + Usage);
            return 2;
        }

        var work = Path.Combine(BenchPaths.Out, "load-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        var settings = new Dictionary<string, string>
        {
            ["Server:Listen"] = "http://127.0.0.1:0",
            ["Server:DataDirectory"] = Path.Combine(work, "data"),
            ["Metrics:Listen"] = "127.0.0.1:0",
            ["Metrics:RecallSampleRate"] = o.RecallRate.ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:BgeVectorDb.Server"] = "Information",
            ["Logging:LogLevel:BgeVectorDb.Server.Metrics"] = "Information",
        };
        if (o.Models)
        {
            var models = Path.Combine(work, "models");
            var vocab = Path.Combine(BenchPaths.SharedData, "tokenizer-bert-base-uncased", "vocab.txt");
            SyntheticModelGenerator.Write(SyntheticModelSpec.Preset("tiny", seed: 11), Path.Combine(models, "synthetic/tiny-embed"), vocab);
            SyntheticModelGenerator.Write(SyntheticModelSpec.Preset("tiny", kind: SyntheticModelKind.CrossEncoder, seed: 12), Path.Combine(models, "synthetic/tiny-rerank"), vocab);
            settings["Models:ModelsFolder"] = models;
            settings["Models:AllowDownload"] = "false";
            settings["Models:CacheFolder"] = Path.Combine(work, "cache");
            settings["Inference:EmbeddingModel"] = "synthetic/tiny-embed";
            settings["Inference:RerankerModel"] = "synthetic/tiny-rerank";
        }
        else
        {
            settings["Inference:EmbeddingModel"] = "none";
            settings["Inference:RerankerModel"] = "none";
        }

        using var server = await LoadServer.StartAsync(settings);
        try
        {
            return await RunLoadAsync(o, server);
        }
        finally
        {
            await server.StopAsync();
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<int> RunLoadAsync(Options o, LoadServer server)
    {
        using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
        var collections = new Collections.CollectionsClient(channel);
        var documents = new Documents.DocumentsClient(channel);
        var search = new Search.SearchClient(channel);
        var create = new CreateCollectionRequest { Name = "load" };
        if (!o.Models) create.Config = new CollectionConfig { EmbeddingModel = "none", RerankerModel = "none", Dimension = (uint)o.Dim };
        var info = await collections.CreateCollectionAsync(create);
        var dim = (int)info.Config.Dimension;
        var words = "cell protein gene trial cancer dose risk patient study effect model immune virus brain blood heart drug sleep diet age".Split(' ');

        Document MakeDoc(Random rng, int n)
        {
            var d = new Document { Id = "doc" + n.ToString(CultureInfo.InvariantCulture) };
            if (o.Models) d.Text = string.Join(' ', Enumerable.Range(0, 12 + rng.Next(24)).Select(_ => words[rng.Next(words.Length)])) + $" number {n}";
            else d.Vector.AddRange(RandomVector(rng, dim));
            d.Metadata["bucket"] = new Value { IntValue = n % 10 };
            return d;
        }

        // Preload (not timed).
        var sw = Stopwatch.StartNew();
        var preloadRng = new Random(1);
        using (var stream = documents.UpsertStream())
        {
            for (var start = 0; start < o.Preload; start += o.Batch)
            {
                var batch = new UpsertRequest { Collection = "load" };
                for (var n = start; n < Math.Min(o.Preload, start + o.Batch); n++) batch.Documents.Add(MakeDoc(preloadRng, n % o.MaxDocs));
                await stream.RequestStream.WriteAsync(batch);
                if (!await stream.ResponseStream.MoveNext()) throw new InvalidOperationException("preload stream ended early");
            }
            await stream.RequestStream.CompleteAsync();
            while (await stream.ResponseStream.MoveNext())
            {
            }
        }
        Console.WriteLine($"load: preloaded {o.Preload} documents in {sw.Elapsed.TotalSeconds:F1} s ({(o.Models ? "tiny synthetic models, text" : $"vectors only, dim {dim}")})");

        var stats = new Dictionary<string, OpStats> { ["ingest-stream"] = new(), ["ingest-batch"] = new(), ["search"] = new() };
        var nextId = o.Preload;
        var end = DateTime.UtcNow.AddSeconds(o.DurationS);
        sw.Restart();
        var clients = Enumerable.Range(0, o.Clients).Select(c => Task.Run(async () =>
        {
            var rng = new Random(100 + c);
            while (DateTime.UtcNow < end)
            {
                var t = Stopwatch.GetTimestamp();
                if (rng.NextDouble() < o.IngestShare)
                {
                    var op = stats["ingest-stream"];
                    try
                    {
                        var deadline = DateTime.UtcNow.AddSeconds(60);
                        using var stream = documents.UpsertStream(deadline: deadline);
                        var acked = 0;
                        for (var b = 0; b < o.BatchesPerStream; b++)
                        {
                            var bt = Stopwatch.GetTimestamp();
                            var batch = new UpsertRequest { Collection = "load", BatchId = (ulong)b + 1 };
                            for (var j = 0; j < o.Batch; j++) batch.Documents.Add(MakeDoc(rng, Interlocked.Increment(ref nextId) % o.MaxDocs));
                            await stream.RequestStream.WriteAsync(batch);
                            if (!await stream.ResponseStream.MoveNext()) throw new InvalidOperationException("stream ended before its ack");
                            if (stream.ResponseStream.Current.BatchId != (ulong)b + 1) throw new InvalidOperationException("ack for the wrong batch");
                            acked += (int)stream.ResponseStream.Current.Upserted;
                            stats["ingest-batch"].Add(Stopwatch.GetElapsedTime(bt).TotalMilliseconds, o.Batch);
                        }
                        await stream.RequestStream.CompleteAsync();
                        if (await stream.ResponseStream.MoveNext()) throw new InvalidOperationException("unexpected extra ack");
                        if (acked != o.Batch * o.BatchesPerStream) throw new InvalidOperationException($"acked {acked} documents");
                        op.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds, acked);
                    }
                    catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
                    {
                        op.Fail(ex);
                    }
                }
                else
                {
                    var op = stats["search"];
                    try
                    {
                        var options = new SearchOptions { K = o.K };
                        if (rng.Next(4) == 0) options.Filter = new Filter { Field = new FieldCondition { Key = "bucket", Equals_ = new Value { IntValue = rng.Next(10) } } };
                        var deadline = DateTime.UtcNow.AddSeconds(30);
                        SearchResponse r;
                        if (o.Models)
                        {
                            var q = string.Join(' ', Enumerable.Range(0, 4 + rng.Next(8)).Select(_ => words[rng.Next(words.Length)]));
                            options.Candidates = Math.Max(50, o.K);
                            r = await search.SearchAsync(new SearchRequest { Collection = "load", Query = q, Options = options }, deadline: deadline);
                        }
                        else
                        {
                            var req = new SearchByVectorRequest { Collection = "load", Options = options };
                            req.Vector.AddRange(RandomVector(rng, dim));
                            r = await search.SearchByVectorAsync(req, deadline: deadline);
                        }
                        if (r.Hits.Count != o.K) throw new InvalidOperationException($"{r.Hits.Count} hits, expected {o.K}");
                        op.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds, 1);
                    }
                    catch (Exception ex) when (ex is RpcException or InvalidOperationException or IOException)
                    {
                        op.Fail(ex);
                    }
                }
            }
        })).ToArray();
        var sampling = o.SampleS > 0 ? SampleMemoryAsync(server.MetricsAddress, o.SampleS, sw, end) : Task.CompletedTask;
        await Task.WhenAll(clients);
        var elapsed = sw.Elapsed.TotalSeconds;
        await sampling;

        var errors = stats["ingest-stream"].Errors + stats["search"].Errors;
        Console.WriteLine($"load ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC): {o.Clients} clients for {elapsed:F1} s, ingest share {o.IngestShare:P0} " +
            $"({o.BatchesPerStream} x {o.Batch} docs per stream), k={o.K}, {Environment.ProcessorCount} cores");
        Console.WriteLine($"  {"operation",-14} {"count",8} {"ops/s",9} {"docs/s",9} {"p50 ms",9} {"p99 ms",9} {"max ms",9} {"errors",7}");
        foreach (var (name, s) in stats)
        {
            Console.WriteLine($"  {name,-14} {s.Count,8} {s.Count / elapsed,9:F1} {(name == "search" ? "" : (s.Items / elapsed).ToString("F0", CultureInfo.InvariantCulture)),9} " +
                $"{s.Percentile(0.50),9:F1} {s.Percentile(0.99),9:F1} {s.Percentile(1.0),9:F1} {s.Errors,7}");
        }
        Console.WriteLine($"  errors: {errors}");
        foreach (var (name, s) in stats)
        {
            foreach (var e in s.FirstErrors) Console.WriteLine($"    {name}: {e}");
        }

        // What the server saw, from its own metrics endpoint.
        try
        {
            using var http = new HttpClient();
            var text = await http.GetStringAsync(server.MetricsAddress);
            double Sum(string prefix) => MetricLine().Matches(text).Where(m => m.Groups[1].Value.StartsWith(prefix, StringComparison.Ordinal))
                .Sum(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            var samples = Sum("bgevdb_recall_samples_total{collection=\"load\"");
            var recallSum = Sum("bgevdb_search_recall_sum{collection=\"load\"");
            Console.WriteLine($"  server: documents {Sum("bgevdb_collection_documents{collection=\"load\"")}, WAL {Sum("bgevdb_wal_bytes{collection=\"load\"") / 1e6:F1} MB, " +
                $"non-OK calls {Sum("bgevdb_requests_total") - MetricLine().Matches(text).Where(m => m.Groups[1].Value.StartsWith("bgevdb_requests_total", StringComparison.Ordinal) && m.Groups[1].Value.Contains("code=\"OK\"", StringComparison.Ordinal)).Sum(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))}, " +
                $"recall samples {samples} (dropped {Sum("bgevdb_recall_dropped_total{collection=\"load\"")}), mean recall@k {(samples > 0 ? (recallSum / samples).ToString("F4", CultureInfo.InvariantCulture) : "n/a")}");
        }
        catch (HttpRequestException ex)
        {
            Console.WriteLine($"  server metrics unavailable: {ex.Message}");
        }
        return errors == 0 ? 0 : 1;
    }

    /// <summary>Prints the server's memory every <paramref name="everyS"/> seconds until <paramref name="end"/>, then the RSS and
    /// GC-heap slopes (least squares, MiB/min) over the first and second half: a leak keeps its slope, warm-up flattens.</summary>
    private static async Task SampleMemoryAsync(string metricsAddress, int everyS, Stopwatch clock, DateTime end)
    {
        using var http = new HttpClient();
        var rows = new List<(double Min, double Rss, double Heap)>();
        Console.WriteLine($"  {"t min",6} {"RSS MiB",8} {"GC heap",8} {"GC comm",8} {"docs",7} {"index MiB",9} {"WAL MB",7} {"disk MB",8}");
        while (true)
        {
            try
            {
                var text = await http.GetStringAsync(metricsAddress);
                double Sum(string prefix) => MetricLine().Matches(text).Where(m => m.Groups[1].Value.StartsWith(prefix, StringComparison.Ordinal))
                    .Sum(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
                const double MiB = 1024 * 1024;
                var row = (clock.Elapsed.TotalMinutes, Sum("bgevdb_process_resident_bytes") / MiB, Sum("bgevdb_gc_heap_bytes") / MiB);
                rows.Add(row);
                Console.WriteLine($"  {row.Item1,6:F1} {row.Item2,8:F1} {row.Item3,8:F1} {Sum("bgevdb_gc_committed_bytes") / MiB,8:F1} " +
                    $"{Sum("bgevdb_collection_documents{collection=\"load\""),7} {Sum("bgevdb_index_memory_bytes{collection=\"load\"") / MiB,9:F1} " +
                    $"{Sum("bgevdb_wal_bytes{collection=\"load\"") / 1e6,7:F1} {Sum("bgevdb_collection_disk_bytes{collection=\"load\"") / 1e6,8:F1}");
            }
            catch (HttpRequestException ex)
            {
                Console.WriteLine($"  metrics unavailable: {ex.Message}");
            }
            var wait = end - DateTime.UtcNow;
            if (wait <= TimeSpan.Zero) break;
            await Task.Delay(wait < TimeSpan.FromSeconds(everyS) ? wait : TimeSpan.FromSeconds(everyS));
        }
        static double Slope(IReadOnlyList<(double X, double Y)> p)
        {
            if (p.Count < 2) return double.NaN;
            double mx = p.Average(q => q.X), my = p.Average(q => q.Y);
            var den = p.Sum(q => (q.X - mx) * (q.X - mx));
            return den == 0 ? double.NaN : p.Sum(q => (q.X - mx) * (q.Y - my)) / den;
        }
        var half = rows.Count / 2;
        var first = rows.Take(half + 1).ToList();
        var second = rows.Skip(half).ToList();
        Console.WriteLine($"  RSS slope: first half {Slope([.. first.Select(r => (r.Min, r.Rss))]):F2} MiB/min, second half {Slope([.. second.Select(r => (r.Min, r.Rss))]):F2} MiB/min; " +
            $"GC heap slope: {Slope([.. first.Select(r => (r.Min, r.Heap))]):F2} then {Slope([.. second.Select(r => (r.Min, r.Heap))]):F2} MiB/min");
    }

    private static float[] RandomVector(Random rng, int dim)
    {
        var v = new float[dim];
        for (var i = 0; i < dim; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    [GeneratedRegex(@"^(bgevdb_[^ ]+) (\S+)$", RegexOptions.Multiline)]
    private static partial Regex MetricLine();

    private sealed class OpStats
    {
        private readonly Lock _lock = new();
        private readonly List<double> _ms = [];
        private readonly List<string> _errors = [];

        public int Count
        {
            get
            {
                lock (_lock) return _ms.Count;
            }
        }

        public long Items { get; private set; }

        public int Errors { get; private set; }

        public IReadOnlyList<string> FirstErrors
        {
            get
            {
                lock (_lock) return _errors.ToArray();
            }
        }

        public void Add(double ms, int items)
        {
            lock (_lock)
            {
                _ms.Add(ms);
                Items += items;
            }
        }

        public void Fail(Exception ex)
        {
            lock (_lock)
            {
                Errors++;
                if (_errors.Count < 5) _errors.Add(ex is RpcException r ? $"{r.StatusCode}: {r.Status.Detail}" : ex.Message);
            }
        }

        public double Percentile(double p)
        {
            lock (_lock)
            {
                if (_ms.Count == 0) return double.NaN;
                _ms.Sort();
                return _ms[Math.Min(_ms.Count - 1, (int)Math.Ceiling(p * _ms.Count) - 1 < 0 ? 0 : (int)Math.Ceiling(p * _ms.Count) - 1)];
            }
        }
    }
}
