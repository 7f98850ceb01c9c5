namespace BgeVectorDb.Core.Inference;

/// <summary>The execution provider actually in use, and why.</summary>
/// <param name="Provider">"cpu" or "cuda".</param>
/// <param name="Reason">Why this provider was chosen (e.g. why <c>auto</c> fell back to CPU).</param>
/// <param name="Available">Execution providers compiled into the loaded ONNX Runtime, as ORT names them
/// (e.g. "CPUExecutionProvider", "CUDAExecutionProvider").</param>
public sealed record ExecutionProviderInfo(string Provider, string Reason, IReadOnlyList<string> Available)
{
    /// <summary>"cpu".</summary>
    public const string Cpu = "cpu";

    /// <summary>"cuda".</summary>
    public const string Cuda = "cuda";

    /// <summary>ORT's name of the CUDA execution provider.</summary>
    public const string OrtCudaProviderName = "CUDAExecutionProvider";
}
