using System.Numerics.Tensors;
using BgeVectorDb.Core.Collections;

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

    /// <summary>Scales <paramref name="v"/> to unit L2 norm in place; a zero vector stays zero.</summary>
    public static void NormalizeInPlace(Span<float> v)
    {
        var norm = TensorPrimitives.Norm(v);
        if (norm > 0 && float.IsFinite(norm))
        {
            TensorPrimitives.Divide(v, norm, v);
        }
    }
}
