using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Tests.Synthetic;
using BgeVectorDb.Synthetic;
using Microsoft.ML.OnnxRuntime;

namespace BgeVectorDb.Core.Tests.Inference;

public sealed class ExecutionProviderTests
{
    [Theory]
    [InlineData("auto", ExecutionProviderPreference.Auto)]
    [InlineData("CPU", ExecutionProviderPreference.Cpu)]
    [InlineData(" Cuda ", ExecutionProviderPreference.Cuda)]
    public void Parse_AcceptsKnownValuesCaseInsensitively(string text, ExecutionProviderPreference expected)
    {
        Assert.Equal(expected, ExecutionProviderPreferences.Parse(text));
        Assert.Equal(text.Trim().ToLowerInvariant(), expected.ToConfigString());
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("")]
    [InlineData("cuda12")]
    public void Parse_RejectsUnknownValuesWithTheAcceptedOnes(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => ExecutionProviderPreferences.Parse(text));
        Assert.Contains($"'{text}'", ex.Message);
        Assert.Contains("auto, cpu, cuda", ex.Message);
    }

    [Fact]
    public void Cpu_ReportsCpuAndRunsAModel()
    {
        var factory = new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 });
        Assert.Equal("cpu", factory.ExecutionProvider.Provider);
        Assert.Contains("CPUExecutionProvider", factory.ExecutionProvider.Available);
        Assert.Equal(1, factory.IntraOpThreads);

        using var model = OnnxModel.Load(TestModels.TinyBertEmbedder.OnnxPath, factory);
        var scores = new float[1][];
        model.RunClsEmbeddings([new EncodedInput([101, 2000, 102], null)], 0, scores);
        Assert.Equal(32, scores[0].Length);
        Assert.All(scores[0], v => Assert.True(float.IsFinite(v)));
    }

#if BGE_GPU
    // The default linux-x64 build ships the GPU package: its runtime registers CUDAExecutionProvider, and on this machine
    // (no GPU, no CUDA 13 libraries) appending it fails while loading the provider library. That is the real fallback.

    [Fact]
    public void Cuda_WithoutCudaOnTheHost_ThrowsWithTheLibraryLoadError()
    {
        var available = OrtEnv.Instance().GetAvailableProviders();
        Assert.Contains("CUDAExecutionProvider", available); // the GPU package is the one loaded
        var ex = Assert.Throws<ExecutionProviderUnavailableException>(
            () => new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cuda }));
        Assert.Equal("CUDAExecutionProvider", ex.Provider);
        Assert.Contains("initialising CUDAExecutionProvider on device 0 failed", ex.Message);
        Assert.Contains("libonnxruntime_providers_cuda.so", ex.Message); // the loader's own reason, e.g. libcudart/libcublas not found
        Assert.Contains("CUDA 13", ex.Message);
        Assert.Contains("-p:BgeCpuOnly=true", ex.Message);
    }

    [Fact]
    public void Auto_WithoutCudaOnTheHost_FallsBackToCpuWithTheLoadErrorAndRunsAModel()
    {
        var factory = new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Auto, IntraOpThreads = 1 });
        Assert.Equal("cpu", factory.ExecutionProvider.Provider);
        Assert.StartsWith("auto", factory.ExecutionProvider.Reason);
        Assert.Contains("libonnxruntime_providers_cuda.so", factory.ExecutionProvider.Reason);
        Assert.Contains("CUDAExecutionProvider", factory.ExecutionProvider.Available);
        using var model = OnnxModel.Load(TestModels.TinyBertEmbedder.OnnxPath, factory);
        var scores = new float[1][];
        model.RunClsEmbeddings([new EncodedInput([101, 2000, 102], null)], 0, scores);
        Assert.All(scores[0], v => Assert.True(float.IsFinite(v)));
    }
#else
    [Fact]
    public void Cuda_OnTheCpuRuntime_ThrowsAClearException()
    {
        var available = OrtEnv.Instance().GetAvailableProviders();
        Assert.DoesNotContain("CUDAExecutionProvider", available); // this test is about the CPU-only build

        var ex = Assert.Throws<ExecutionProviderUnavailableException>(
            () => new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cuda }));
        Assert.Equal("CUDAExecutionProvider", ex.Provider);
        Assert.Contains("Execution provider CUDAExecutionProvider is not available", ex.Message);
        Assert.Contains("CPUExecutionProvider", ex.Message); // lists what is available
        Assert.Contains("-p:BgeCpuOnly=true", ex.Message);
        Assert.Contains("CUDA 13", ex.Message);
    }

    [Fact]
    public void Auto_OnTheCpuRuntime_FallsBackToCpuWithAReason()
    {
        var factory = new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Auto });
        Assert.Equal("cpu", factory.ExecutionProvider.Provider);
        Assert.Contains("CUDA", factory.ExecutionProvider.Reason);
        Assert.StartsWith("auto", factory.ExecutionProvider.Reason);
        Assert.Equal(Environment.ProcessorCount, factory.IntraOpThreads);
    }
#endif

    [Fact]
    public void CudaListedButFailingToInitialise_CudaThrowsAndAutoFallsBack()
    {
        // The runtime's own list is replaced by one that claims CUDA: appending the provider then fails
        // (the CPU build has no CUDA provider library), which is the "appending throws" path.
        string[] claimed = ["CUDAExecutionProvider", "CPUExecutionProvider"];
        var ex = Assert.Throws<ExecutionProviderUnavailableException>(() => new OnnxSessionFactory(
            new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cuda }, claimed, null));
        Assert.Contains("initialising CUDAExecutionProvider on device 0 failed", ex.Message);
        Assert.NotNull(ex.InnerException);

        var auto = new OnnxSessionFactory(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Auto }, claimed, null);
        Assert.Equal("cpu", auto.ExecutionProvider.Provider);
        Assert.Contains("CUDA", auto.ExecutionProvider.Reason);
    }

    [Fact]
    public void NegativeThreads_AreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxSessionFactory(new OnnxRuntimeOptions { IntraOpThreads = -1 }));
    }
}
