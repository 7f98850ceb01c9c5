using System.Globalization;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Reranking;

namespace BgeVectorDb.Bench;

/// <summary>Shared parts of the storage harnesses: seeded vectors, option parsing.</summary>
internal static class StorageBenchSupport
{
    public static Dictionary<string, string> Options(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2) options[args[i].TrimStart('-')] = args[i + 1];
        return options;
    }

    public static int Int(Dictionary<string, string> o, string key, int fallback) =>
        o.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    /// <summary>Batches of documents with seeded random unit vectors and short texts.</summary>
    public static List<Document[]> Batches(int docs, int dim, int batch, int seed)
    {
        var rng = new Random(seed);
        var result = new List<Document[]>();
        for (var start = 0; start < docs; start += batch)
        {
            var b = new Document[Math.Min(batch, docs - start)];
            for (var j = 0; j < b.Length; j++)
            {
                var v = new float[dim];
                for (var d = 0; d < dim; d++) v[d] = (float)(rng.NextDouble() * 2 - 1);
                var n = start + j;
                b[j] = new Document($"doc-{n}", $"document number {n}", new Dictionary<string, MetadataValue> { ["n"] = MetadataValue.Of((long)n) }, v);
            }
            result.Add(b);
        }
        return result;
    }

    /// <summary>Upserts the batches with <paramref name="writers"/> concurrent writers.</summary>
    public static async Task IngestAsync(Collection collection, IReadOnlyList<Document[]> batches, int writers)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < batches.Count) await collection.UpsertAsync(batches[i]);
        })));
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static string Mb(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MiB";
}
