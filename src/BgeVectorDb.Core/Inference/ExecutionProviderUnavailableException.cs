namespace BgeVectorDb.Core.Inference;

/// <summary>
/// The configured execution provider (e.g. <c>cuda</c>) cannot be used by the loaded ONNX Runtime.
/// </summary>
public sealed class ExecutionProviderUnavailableException : Exception
{
    /// <summary>Creates the exception; the message names the provider, what is available and the fix.</summary>
    public ExecutionProviderUnavailableException(
        string provider, IReadOnlyList<string> availableProviders, string detail, Exception? innerException = null)
        : base(BuildMessage(provider, availableProviders, detail), innerException)
    {
        Provider = provider;
        AvailableProviders = availableProviders;
    }

    /// <summary>The requested provider as ORT names it, e.g. "CUDAExecutionProvider".</summary>
    public string Provider { get; }

    /// <summary>Providers the loaded runtime offers.</summary>
    public IReadOnlyList<string> AvailableProviders { get; }

    private static string BuildMessage(string provider, IReadOnlyList<string> available, string detail) =>
        $"Execution provider {provider} is not available: {detail}. " +
        $"Available providers: [{string.Join(", ", available)}]. " +
        "CUDA needs the GPU build of ONNX Runtime (Microsoft.ML.OnnxRuntime.Gpu.Linux, the default on linux-x64; " +
        "-p:BgeCpuOnly=true builds without it) and CUDA 13 with cuDNN 9 on the host (their libraries on the loader path, " +
        "e.g. LD_LIBRARY_PATH); or configure the execution provider as 'auto' or 'cpu'.";
}
