using System.Numerics.Tensors;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Index;

/// <summary>Similarity kernels; every score is "higher is better".</summary>
public static class VectorMath
{
    public static float Score(DistanceKind distance, ReadOnlySpan<float> a, ReadOnlySpan<float> b) => distance switch
    {
        DistanceKind.L2 => -SquaredDistance(a, b),
        _ => TensorPrimitives.Dot(a, b),
    };

    public static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var d = TensorPrimitives.Distance(a, b);
        return d * d;
    }

    /// <summary>Sum of squares accumulated in double: finite for any finite float vector (at most
    /// 4096 x (3.4e38)^2 = 4.7e80), so a squared norm beyond float range is detected instead of becoming +inf.</summary>
    public static double SquaredNorm(ReadOnlySpan<float> v)
    {
        var sum = 0.0;
        foreach (var x in v) sum += (double)x * x;
        return sum;
    }

    /// <summary>Scales <paramref name="v"/> to unit L2 norm in place, the norm and the division in double (so
    /// neither very large nor subnormal components lose the direction); a zero vector stays zero.</summary>
    public static void NormalizeInPlace(Span<float> v)
    {
        var norm = Math.Sqrt(SquaredNorm(v));
        if (norm > 0 && double.IsFinite(norm))
        {
            for (var i = 0; i < v.Length; i++) v[i] = (float)(v[i] / norm);
        }
    }
}
