using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace BgeVectorDb.Core.Inference;

/// <summary>
/// Creates ONNX Runtime sessions with one execution-provider decision for the whole process: the
/// provider is chosen once, at construction, and reported by <see cref="ExecutionProvider"/>.
/// </summary>
/// <remarks>
/// <c>cuda</c> throws <see cref="ExecutionProviderUnavailableException"/> when the loaded runtime lacks the
/// CUDA provider or it fails to initialise; <c>auto</c> falls back to CPU and records the reason.
/// CPU settings: graph optimisation level "all", memory pattern on, sequential execution,
/// <see cref="OnnxRuntimeOptions.IntraOpThreads"/> threads.
/// </remarks>
public sealed partial class OnnxSessionFactory
{
    private readonly OnnxRuntimeOptions _options;
    private readonly ILogger _logger;

    /// <summary>Chooses the execution provider (see the remarks of the type).</summary>
    /// <exception cref="ExecutionProviderUnavailableException">Provider <c>cuda</c> requested but unusable.</exception>
    public OnnxSessionFactory(OnnxRuntimeOptions? options = null, ILogger<OnnxSessionFactory>? logger = null)
        : this(options ?? new OnnxRuntimeOptions(), OrtEnv.Instance().GetAvailableProviders(), logger)
    {
    }

    /// <summary>Testing seam: the provider list is given instead of asked from the runtime.</summary>
    internal OnnxSessionFactory(OnnxRuntimeOptions options, IReadOnlyList<string> availableProviders, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        ExecutionProvider = Decide(options, availableProviders);
        if (ExecutionProvider.Provider == ExecutionProviderInfo.Cpu && options.ExecutionProvider == ExecutionProviderPreference.Auto)
        {
            LogCudaFallback(_logger, ExecutionProvider.Reason);
        }

        LogProviderSelected(_logger, ExecutionProvider.Provider, options.EffectiveIntraOpThreads);
    }

    /// <summary>The provider every session of this factory uses, with the reason and what the runtime offers.</summary>
    public ExecutionProviderInfo ExecutionProvider { get; }

    /// <summary>Threads ONNX Runtime uses inside one operator (resolved: never 0).</summary>
    public int IntraOpThreads => _options.EffectiveIntraOpThreads;

    /// <summary>Opens an ONNX model file with this factory's provider and settings.</summary>
    public InferenceSession CreateSession(string onnxPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(onnxPath);
        if (!File.Exists(onnxPath))
        {
            throw new FileNotFoundException($"ONNX model not found: {onnxPath}", onnxPath);
        }

        using var sessionOptions = CreateSessionOptions();
        return new InferenceSession(onnxPath, sessionOptions);
    }

    /// <summary>Session options for the chosen provider; the caller disposes them.</summary>
    internal SessionOptions CreateSessionOptions()
    {
        var sessionOptions = new SessionOptions();
        try
        {
            ApplyCpuSettings(sessionOptions, _options);
            if (ExecutionProvider.Provider == ExecutionProviderInfo.Cuda)
            {
                sessionOptions.AppendExecutionProvider_CUDA(_options.CudaDeviceId);
            }

            return sessionOptions;
        }
        catch
        {
            sessionOptions.Dispose();
            throw;
        }
    }

    private static void ApplyCpuSettings(SessionOptions sessionOptions, OnnxRuntimeOptions options)
    {
        sessionOptions.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        sessionOptions.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
        sessionOptions.EnableMemoryPattern = true;
        sessionOptions.EnableCpuMemArena = true;
        sessionOptions.IntraOpNumThreads = options.EffectiveIntraOpThreads;
        sessionOptions.InterOpNumThreads = 1;
    }

    /// <summary>ORT's exception only says "Failed to load shared library"; the loader's reason (e.g. "libcublasLt.so.13:
    /// cannot open shared object file") goes to ORT's own log. Loading the provider library ourselves gives it back.</summary>
    private static string CudaLoadErrorFor(string library)
    {
        foreach (var folder in new[] { Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"), AppContext.BaseDirectory })
        {
            var path = Path.Combine(folder, library);
            if (!File.Exists(path)) continue;
            try
            {
                System.Runtime.InteropServices.NativeLibrary.Free(System.Runtime.InteropServices.NativeLibrary.Load(path));
                return $" ({library} loads; the failure is in CUDA initialisation: driver or device)";
            }
            catch (DllNotFoundException ex)
            {
                return $" ({ex.Message.Trim()})";
            }
            catch (BadImageFormatException ex)
            {
                return $" ({ex.Message.Trim()})";
            }
        }
        return $" ({library} not found next to the application)";
    }

    private static string CudaLibraryLoadError() =>
        OperatingSystem.IsLinux() ? CudaLoadErrorFor("libonnxruntime_providers_cuda.so") : "";

    private static ExecutionProviderInfo Decide(OnnxRuntimeOptions options, IReadOnlyList<string> available)
    {
        var availableCopy = available.ToArray();
        if (options.ExecutionProvider == ExecutionProviderPreference.Cpu)
        {
            return new ExecutionProviderInfo(ExecutionProviderInfo.Cpu, "configured: cpu", availableCopy);
        }

        string? failure = null;
        Exception? error = null;
        if (!availableCopy.Contains(ExecutionProviderInfo.OrtCudaProviderName, StringComparer.Ordinal))
        {
            failure = "the loaded ONNX Runtime has no " + ExecutionProviderInfo.OrtCudaProviderName +
#if BGE_GPU
                " (the GPU package is referenced but its CUDA provider is not registered)";
#else
                " (this is the CPU-only build, Microsoft.ML.OnnxRuntime, -p:BgeCpuOnly=true)";
#endif
        }
        else
        {
            // The CUDA provider library (and through it CUDA/cuDNN) is loaded when the provider is appended.
            try
            {
                using var probe = new SessionOptions();
                probe.AppendExecutionProvider_CUDA(options.CudaDeviceId);
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                failure = $"initialising {ExecutionProviderInfo.OrtCudaProviderName} on device {options.CudaDeviceId} failed: {ex.Message}{CudaLibraryLoadError()}";
                error = ex;
            }
        }

        if (failure is null)
        {
            return new ExecutionProviderInfo(
                ExecutionProviderInfo.Cuda,
                $"configured: {options.ExecutionProvider.ToConfigString()}; CUDA device {options.CudaDeviceId} initialised",
                availableCopy);
        }

        if (options.ExecutionProvider == ExecutionProviderPreference.Cuda)
        {
            throw new ExecutionProviderUnavailableException(
                ExecutionProviderInfo.OrtCudaProviderName, availableCopy, failure, error);
        }

        return new ExecutionProviderInfo(
            ExecutionProviderInfo.Cpu, "auto: CUDA unavailable, using CPU: " + failure, availableCopy);
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Execution provider auto fell back to CPU: {Reason}")]
    private static partial void LogCudaFallback(ILogger logger, string reason);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "ONNX Runtime execution provider: {Provider} (intra-op threads {Threads})")]
    private static partial void LogProviderSelected(ILogger logger, string provider, int threads);
}
