namespace BgeVectorDb.Core.Primitives;

public enum DistanceKind : byte
{
    /// <summary>Vectors are L2-normalised at insert; score = dot product.</summary>
    Cosine = 1,
    /// <summary>Raw inner product.</summary>
    Dot = 2,
    /// <summary>Score = minus the squared Euclidean distance (higher is better).</summary>
    L2 = 3,
}
