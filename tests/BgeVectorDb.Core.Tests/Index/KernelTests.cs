using System.Diagnostics;
using System.Runtime.Intrinsics;
using BgeVectorDb.Core.Index.Hnsw;

namespace BgeVectorDb.Core.Tests.Index;

public class KernelTests
{
    public static readonly int[] Lengths = [0, 1, 7, 15, 17, 385];

    /// <summary>Checks both kernels against a double-precision scalar reference at every length;
    /// returns the failures (empty when all pass). Also run by the test program's "kernel-check" mode
    /// in a child process with DOTNET_EnableAVX2=0.</summary>
    public static List<string> Check()
    {
        var failures = new List<string>();
        var rng = new Random(17);
        foreach (var n in Lengths)
        {
            for (var trial = 0; trial < 5; trial++)
            {
                var a = new float[n];
                var b = new float[n];
                for (var i = 0; i < n; i++)
                {
                    a[i] = (float)(rng.NextDouble() * 4 - 2);
                    b[i] = (float)(rng.NextDouble() * 4 - 2);
                }
                double dot = 0, l2 = 0, scale = 0;
                for (var i = 0; i < n; i++)
                {
                    dot += (double)a[i] * b[i];
                    l2 += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
                    scale += Math.Abs((double)a[i] * b[i]);
                }
                var tolerance = 1e-5 * (1 + scale + l2);
                var gotDot = Kernels.Dot(a, b);
                var gotL2 = Kernels.SquaredL2(a, b);
                if (Math.Abs(gotDot - dot) > tolerance) failures.Add($"dot n={n}: {gotDot} vs {dot}");
                if (Math.Abs(gotL2 - l2) > tolerance) failures.Add($"l2 n={n}: {gotL2} vs {l2}");
            }
        }
        return failures;
    }

    [Fact]
    public void Kernels_match_the_scalar_reference_at_the_widest_width()
    {
        Assert.Empty(Check());
        Assert.Equal(Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128, Kernels.VectorWidthBits);
    }

    [Fact]
    public void Kernels_match_the_scalar_reference_with_avx2_disabled()
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(typeof(KernelTests).Assembly.Location);
        psi.ArgumentList.Add("kernel-check");
        psi.Environment["DOTNET_EnableAVX2"] = "0";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(60_000), "child did not exit");
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {stdout} {stderr}");
        // With AVX2 off neither Vector256 nor Vector512 is accelerated: the 128-bit path and tail ran.
        Assert.Contains("kernel-check ok width=128", stdout);
    }
}
