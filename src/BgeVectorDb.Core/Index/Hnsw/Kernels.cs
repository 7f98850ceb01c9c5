using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace BgeVectorDb.Core.Index.Hnsw;

/// <summary>Distance kernels over raw float pointers: the widest vector width the CPU accelerates
/// (Vector512, Vector256, Vector128) with a scalar tail. The HNSW inner loop calls these directly.</summary>
public static unsafe class Kernels
{
    /// <summary>Dot product of <paramref name="n"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        var i = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16), acc1);
            }
            if (i <= n - 16)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc0);
                i += 16;
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), acc1);
            }
            if (i <= n - 8)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
                i += 8;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        else if (Vector128.IsHardwareAccelerated && n >= 4)
        {
            var acc0 = Vector128<float>.Zero;
            var acc1 = Vector128<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                acc0 += Vector128.Load(a + i) * Vector128.Load(b + i);
                acc1 += Vector128.Load(a + i + 4) * Vector128.Load(b + i + 4);
            }
            if (i <= n - 4)
            {
                acc0 += Vector128.Load(a + i) * Vector128.Load(b + i);
                i += 4;
            }
            sum = Vector128.Sum(acc0 + acc1);
        }
        else
        {
            sum = 0;
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>Squared Euclidean distance of <paramref name="n"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float SquaredL2(float* a, float* b, int n)
    {
        var i = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var d0 = Vector512.Load(a + i) - Vector512.Load(b + i);
                var d1 = Vector512.Load(a + i + 16) - Vector512.Load(b + i + 16);
                acc0 = Vector512.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector512.FusedMultiplyAdd(d1, d1, acc1);
            }
            if (i <= n - 16)
            {
                var d0 = Vector512.Load(a + i) - Vector512.Load(b + i);
                acc0 = Vector512.FusedMultiplyAdd(d0, d0, acc0);
                i += 16;
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var d0 = Vector256.Load(a + i) - Vector256.Load(b + i);
                var d1 = Vector256.Load(a + i + 8) - Vector256.Load(b + i + 8);
                acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector256.FusedMultiplyAdd(d1, d1, acc1);
            }
            if (i <= n - 8)
            {
                var d0 = Vector256.Load(a + i) - Vector256.Load(b + i);
                acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
                i += 8;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        else if (Vector128.IsHardwareAccelerated && n >= 4)
        {
            var acc0 = Vector128<float>.Zero;
            var acc1 = Vector128<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var d0 = Vector128.Load(a + i) - Vector128.Load(b + i);
                var d1 = Vector128.Load(a + i + 4) - Vector128.Load(b + i + 4);
                acc0 += d0 * d0;
                acc1 += d1 * d1;
            }
            if (i <= n - 4)
            {
                var d0 = Vector128.Load(a + i) - Vector128.Load(b + i);
                acc0 += d0 * d0;
                i += 4;
            }
            sum = Vector128.Sum(acc0 + acc1);
        }
        else
        {
            sum = 0;
        }
        for (; i < n; i++)
        {
            var d = a[i] - b[i];
            sum += d * d;
        }
        return sum;
    }

    /// <summary>Span form of <see cref="Dot(float*, float*, int)"/>.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("lengths differ", nameof(b));
        fixed (float* pa = a)
        fixed (float* pb = b)
        {
            return Dot(pa, pb, a.Length);
        }
    }

    /// <summary>Span form of <see cref="SquaredL2(float*, float*, int)"/>.</summary>
    public static float SquaredL2(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("lengths differ", nameof(b));
        fixed (float* pa = a)
        fixed (float* pb = b)
        {
            return SquaredL2(pa, pb, a.Length);
        }
    }

    /// <summary>Which vector width the kernels use on this CPU (for logs and tests).</summary>
    public static int VectorWidthBits =>
        Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 32;
}

/// <summary>A similarity (higher is better) specialised at compile time so the search loop has no
/// virtual or delegate call.</summary>
internal unsafe interface IScorer
{
    static abstract float Score(float* a, float* b, int n);
}

internal readonly unsafe struct DotScorer : IScorer
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Score(float* a, float* b, int n) => Kernels.Dot(a, b, n);
}

internal readonly unsafe struct NegativeL2Scorer : IScorer
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Score(float* a, float* b, int n) => -Kernels.SquaredL2(a, b, n);
}
