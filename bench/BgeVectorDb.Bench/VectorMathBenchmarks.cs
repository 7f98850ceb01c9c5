using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Bench;

/// <summary>
/// BenchmarkDotNet suite of the two L2 normalisations of <see cref="VectorMath"/> at 384, 768 and 1024 dimensions:
/// NormalizeInPlace (client vectors: norm and division in double, scalar) against NormalizeInto (model outputs:
/// float, TensorPrimitives), plus the double SquaredNorm the request validation runs. Each call first copies a fixed
/// vector into the buffer (same cost in every method), so every run normalises the same input.
/// Usage: vectormath [BenchmarkDotNet options, e.g. --job short].
/// </summary>
public class VectorMathBenchmarks
{
    private float[] _source = [];
    private float[] _buffer = [];

    [Params(384, 768, 1024)]
    public int Dimension { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _source = Enumerable.Range(0, Dimension).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _buffer = new float[Dimension];
    }

    [Benchmark(Baseline = true)]
    public float NormalizeInto()
    {
        _source.CopyTo(_buffer, 0);
        VectorMath.NormalizeInto(_buffer, _buffer);
        return _buffer[0];
    }

    [Benchmark]
    public float NormalizeInPlace()
    {
        _source.CopyTo(_buffer, 0);
        VectorMath.NormalizeInPlace(_buffer);
        return _buffer[0];
    }

    [Benchmark]
    public double SquaredNorm() => VectorMath.SquaredNorm(_source);

    public static Task<int> RunAsync(string[] args)
    {
        BenchmarkRunner.Run<VectorMathBenchmarks>(args: args);
        return Task.FromResult(0);
    }
}
