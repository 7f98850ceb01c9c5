using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Index.Hnsw;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Synthetic;

namespace BgeVectorDb.Core.Tests.Index;

/// <summary>20,000 seeded clustered 384-d unit vectors in an HNSW index at default parameters
/// (built once per test class, in parallel), plus 200 queries from the same mixture.</summary>
public sealed class HnswFixture
{
    public const int Count = 20_000;
    public const int Dim = 384;
    public const int DefaultEf = 100; // HnswParameters.Default.EfSearch

    public HnswFixture()
    {
        var mixture = new GaussianMixture(Dim, Seed: 11);
        Data = mixture.Generate(Count);
        Queries = mixture.Generate(200, stream: 1);
        Index = Build(Data);
    }

    public float[][] Data { get; }

    public float[][] Queries { get; }

    public HnswIndex Index { get; }

    public static HnswIndex Build(float[][] data)
    {
        var index = new HnswIndex(Dim, DistanceKind.Cosine);
        Parallel.For(0, data.Length, i => index.Upsert(i, data[i]));
        return index;
    }
}

internal static class Recall
{
    /// <summary>Exact top-k ids among <paramref name="live"/> ids that pass <paramref name="filter"/>.</summary>
    public static int[] Exact(float[][] data, bool[] live, float[] query, int k, Func<int, bool>? filter = null)
    {
        var top = new List<(float Score, int Id)>();
        for (var i = 0; i < data.Length; i++)
        {
            if (!live[i] || (filter is not null && !filter(i))) continue;
            top.Add((VectorMath.Score(DistanceKind.Cosine, query, data[i]), i));
        }
        return top.OrderByDescending(t => t.Score).ThenBy(t => t.Id).Take(k).Select(t => t.Id).ToArray();
    }

    /// <summary>Mean recall@k of the index against exact search over the live points.</summary>
    public static double At(IVectorIndex index, float[][] data, bool[] live, float[][] queries, int k, int ef, Func<int, bool>? filter = null)
    {
        double found = 0, total = 0;
        foreach (var q in queries)
        {
            var truth = Exact(data, live, q, k, filter);
            var got = index.Search(q, k, filter, ef);
            foreach (var h in got)
            {
                Assert.True(live[h.Id], $"result {h.Id} is not live");
                if (filter is not null) Assert.True(filter(h.Id), $"result {h.Id} does not pass the filter");
            }
            var set = got.Select(h => h.Id).ToHashSet();
            found += truth.Count(set.Contains);
            total += truth.Length;
        }
        return total == 0 ? 1 : found / total;
    }
}
