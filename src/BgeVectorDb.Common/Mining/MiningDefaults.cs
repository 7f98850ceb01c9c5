namespace BgeVectorDb.Common.Mining;

/// <summary>Defaults and limits of a mining job, shared by the engine (<c>MiningOptions</c>) and the CLI.</summary>
public static class MiningDefaults
{
    /// <summary>Start of the sampled slice of ranked hits (FlagEmbedding's range_for_sampling 2-200).</summary>
    public const int RangeStart = 2;

    /// <summary>End (exclusive) of the sampled slice.</summary>
    public const int RangeEnd = 200;

    /// <summary>Negatives per query.</summary>
    public const int NegativeNumber = 15;

    /// <summary>Queries mined at the same time.</summary>
    public const int Parallelism = 4;

    /// <summary>Largest number of negatives per query.</summary>
    public const int MaxNegativeNumber = 1000;
}
