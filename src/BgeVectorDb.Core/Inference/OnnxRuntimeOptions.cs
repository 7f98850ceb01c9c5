namespace BgeVectorDb.Core.Inference;

/// <summary>ONNX Runtime settings shared by every model session the engine creates.</summary>
public sealed class OnnxRuntimeOptions
{
    /// <summary>Execution provider: auto (default), cpu or cuda. See <see cref="ExecutionProviderPreferences.Parse"/>
    /// for the string form.</summary>
    public ExecutionProviderPreference ExecutionProvider { get; set; } = ExecutionProviderPreference.Auto;

    /// <summary>Threads ONNX Runtime uses inside one operator on CPU. 0 (default) = number of logical cores.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>CUDA device ordinal used when the CUDA provider is selected. Default 0.</summary>
    public int CudaDeviceId { get; set; }

    internal int EffectiveIntraOpThreads => IntraOpThreads > 0 ? IntraOpThreads : Environment.ProcessorCount;

    internal void Validate()
    {
        if (IntraOpThreads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "must be >= 0 (0 = cores)");
        }

        if (CudaDeviceId < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(CudaDeviceId), CudaDeviceId, "must be >= 0");
        }
    }
}
