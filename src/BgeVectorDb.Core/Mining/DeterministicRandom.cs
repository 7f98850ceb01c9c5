namespace BgeVectorDb.Core.Mining;

/// <summary>
/// xoshiro256** 1.0 (Blackman and Vigna, https://prng.di.unimi.it/xoshiro256starstar.c), its four state
/// words filled by SplitMix64 (https://prng.di.unimi.it/splitmix64.c). Fixed algorithm, so a seed gives the
/// same sequence on every platform and runtime version (unlike <see cref="System.Random"/>, whose algorithm
/// is unspecified). Bounded integers use Lemire's multiply-and-reject method (unbiased).
/// </summary>
public sealed class DeterministicRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    private ulong _s0, _s1, _s2, _s3;

    /// <summary>State from four successive SplitMix64 outputs starting at <paramref name="seed"/>.</summary>
    public DeterministicRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>The generator of one item of a job: SplitMix64 started at
    /// <c>seed XOR ((index + 1) * 0x9E3779B97F4A7C15)</c>. Items are independent of processing order.</summary>
    public static DeterministicRandom ForItem(ulong seed, ulong index) => new(seed ^ unchecked((index + 1) * Golden));

    /// <summary>One SplitMix64 step: advances <paramref name="state"/> by the golden gamma and returns the mix.</summary>
    public static ulong SplitMix64(ref ulong state)
    {
        unchecked
        {
            var z = state += Golden;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        unchecked
        {
            var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
            var t = _s1 << 17;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = ulong.RotateLeft(_s3, 45);
            return result;
        }
    }

    /// <summary>Uniform integer in [0, <paramref name="bound"/>), bound &gt; 0 (Lemire 2019).</summary>
    public ulong NextBelow(ulong bound)
    {
        ArgumentOutOfRangeException.ThrowIfZero(bound);
        var m = (UInt128)NextUInt64() * bound;
        var low = (ulong)m;
        if (low < bound)
        {
            var threshold = unchecked(0 - bound) % bound;
            while (low < threshold)
            {
                m = (UInt128)NextUInt64() * bound;
                low = (ulong)m;
            }
        }
        return (ulong)(m >> 64);
    }

    /// <summary>Fisher-Yates shuffle (from the last element down), in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = (int)NextBelow((ulong)i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
