namespace BgeVectorDb.Synthetic.Internal;

/// <summary>
/// Platform-independent seeded "normal-ish" numbers: SplitMix64 uniforms, four summed (Irwin-Hall),
/// centred and scaled to unit variance. Only integer and basic float arithmetic, so the same seed gives
/// the same bits on every machine (no libm calls).
/// </summary>
internal static class SeededNormal
{
    /// <summary>Fills <paramref name="data"/> with values of mean 0 and standard deviation <paramref name="std"/>,
    /// from a stream keyed by (<paramref name="seed"/>, <paramref name="name"/>).</summary>
    public static void Fill(Span<float> data, int seed, string name, float std)
    {
        var state = Mix((ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ Fnv1a(name));
        // Sum of 4 U(0,1) has mean 2 and variance 4/12; scale by sqrt(3) for unit variance.
        var scale = std * 1.7320508f / (1 << 24);
        for (var i = 0; i < data.Length; i++)
        {
            var a = Next(ref state);
            var b = Next(ref state);
            // Four 24-bit uniforms from two 64-bit draws.
            var sum = (long)(a & 0xFFFFFF) + (long)((a >> 32) & 0xFFFFFF) + (long)(b & 0xFFFFFF) + (long)((b >> 32) & 0xFFFFFF);
            data[i] = (sum - (2L << 24)) * scale;
        }
    }

    private static ulong Next(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Fnv1a(string s)
    {
        var h = 0xCBF29CE484222325UL;
        foreach (var c in s)
        {
            h = (h ^ c) * 0x100000001B3UL;
        }

        return h;
    }
}
