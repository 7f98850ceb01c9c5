using System.Numerics.Tensors;

namespace BgeVectorDb.Core.Primitives;

/// <summary>Similarity kernels and L2 normalisation, shared by the index, the collections and the inference path;
/// every score is "higher is better". (The HNSW inner loop has its own pointer kernels, Index/Hnsw/Kernels.cs.)</summary>
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
    /// neither very large nor subnormal components lose the direction); a zero vector stays zero. For client
    /// vectors, which may hold any finite floats.</summary>
    public static void NormalizeInPlace(Span<float> v)
    {
        var norm = Math.Sqrt(SquaredNorm(v));
        if (norm > 0 && double.IsFinite(norm))
        {
            for (var i = 0; i < v.Length; i++) v[i] = (float)(v[i] / norm);
        }
    }

    /// <summary>Writes <paramref name="source"/> / ||source||₂ into <paramref name="destination"/> (may be the same
    /// span) in float with vector instructions; a zero vector, or one whose float norm overflows, is copied unchanged.
    /// For model outputs (pooled hidden states: moderate magnitudes), where
    /// <see cref="NormalizeInPlace"/>'s double precision buys nothing.</summary>
    public static void NormalizeInto(ReadOnlySpan<float> source, Span<float> destination)
    {
        float norm = TensorPrimitives.Norm(source);
        if (norm > 0f && float.IsFinite(norm))
        {
            TensorPrimitives.Divide(source, norm, destination);
        }
        else
        {
            source.CopyTo(destination);
        }
    }
}
