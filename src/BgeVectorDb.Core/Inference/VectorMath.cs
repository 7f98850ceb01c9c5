using System.Numerics.Tensors;

namespace BgeVectorDb.Core.Inference;

/// <summary>Small vector helpers of the inference path.</summary>
internal static class VectorMath
{
    /// <summary>Writes <paramref name="source"/> / ||source||₂ into <paramref name="destination"/>
    /// (a zero vector stays zero).</summary>
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
