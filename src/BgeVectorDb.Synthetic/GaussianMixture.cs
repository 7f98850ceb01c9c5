namespace BgeVectorDb.Synthetic;

/// <summary>
/// Seeded clustered vectors for index tests and the ANN benchmark: a Gaussian mixture with
/// <see cref="Clusters"/> equally likely components. Centre j is drawn from N(0, I_d); a point of
/// component j is centre_j + e, where e has independent coordinates e_i ~ N(0, (Spread * (1 + r_i)^-Decay)^2)
/// and r is a per-component random permutation of 0..d-1 (each cluster stretches along different axes,
/// so the data has a decaying spectrum like real embeddings rather than an isotropic blob). Every vector is
/// then scaled to unit length (cosine / dot). Larger <see cref="Spread"/> and smaller <see cref="Decay"/>
/// make neighbours harder to find. Queries come from the same mixture with a different stream.
/// </summary>
public sealed record GaussianMixture(int Dimension, int Clusters = 64, double Spread = 1.0, double Decay = 0.5, int Seed = 1)
{
    /// <summary>The first <paramref name="count"/> points of stream <paramref name="stream"/> (0 = data,
    /// 1 = queries, ...); deterministic for the same record and arguments.</summary>
    public float[][] Generate(int count, int stream = 0)
    {
        var (centres, scales) = Components();
        var rng = new Random(StreamSeed(Seed, stream));
        var result = new float[count][];
        for (var n = 0; n < count; n++)
        {
            var c = rng.Next(Clusters);
            var v = new float[Dimension];
            double norm = 0;
            for (var i = 0; i < Dimension; i++)
            {
                var x = centres[c][i] + scales[c][i] * Gaussian(rng);
                v[i] = (float)x;
                norm += x * x;
            }
            var inv = norm > 0 ? 1 / Math.Sqrt(norm) : 0;
            for (var i = 0; i < Dimension; i++) v[i] = (float)(v[i] * inv);
            result[n] = v;
        }
        return result;
    }

    /// <summary>The stream's seed from (seed, stream) by splitmix64: the same in every process
    /// (HashCode.Combine is randomised per process).</summary>
    private static int StreamSeed(int seed, int stream)
    {
        var z = ((ulong)(uint)seed << 32 | (uint)stream) ^ 0x5EED_9E37_79B9_7F4AUL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    private (double[][] Centres, double[][] Scales) Components()
    {
        var rng = new Random(Seed);
        var centres = new double[Clusters][];
        var scales = new double[Clusters][];
        for (var c = 0; c < Clusters; c++)
        {
            centres[c] = new double[Dimension];
            for (var i = 0; i < Dimension; i++) centres[c][i] = Gaussian(rng);
            var perm = Enumerable.Range(0, Dimension).ToArray();
            rng.Shuffle(perm);
            scales[c] = new double[Dimension];
            for (var i = 0; i < Dimension; i++) scales[c][i] = Spread * Math.Pow(1 + perm[i], -Decay);
        }
        return (centres, scales);
    }

    private static double Gaussian(Random rng)
    {
        // Box-Muller; 1 - U keeps the logarithm finite.
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
