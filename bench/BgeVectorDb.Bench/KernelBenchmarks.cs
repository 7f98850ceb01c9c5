using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using BgeVectorDb.Core.Index.Hnsw;

namespace BgeVectorDb.Bench;

/// <summary>
/// BenchmarkDotNet suite of the HNSW distance kernels (<see cref="Kernels"/>: Vector512/256/128 with a
/// scalar tail) next to System.Numerics.Tensors at 384, 768 and 1024 dimensions. Baseline:
/// TensorPrimitives.Dot. Usage: kernels [BenchmarkDotNet options, e.g. --job short].
/// </summary>
public class KernelBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];

    [Params(384, 768, 1024)]
    public int Dimension { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _a = Enumerable.Range(0, Dimension).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _b = Enumerable.Range(0, Dimension).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
    }

    [Benchmark(Baseline = true)]
    public float TensorPrimitivesDot() => TensorPrimitives.Dot(_a, _b);

    [Benchmark]
    public float KernelsDot() => Kernels.Dot(_a, _b);

    [Benchmark]
    public float TensorPrimitivesSquaredDistance()
    {
        var d = TensorPrimitives.Distance(_a, _b);
        return d * d;
    }

    [Benchmark]
    public float KernelsSquaredL2() => Kernels.SquaredL2(_a, _b);

    public static Task<int> RunAsync(string[] args)
    {
        BenchmarkRunner.Run<KernelBenchmarks>(args: args);
        return Task.FromResult(0);
    }
}
