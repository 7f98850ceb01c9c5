using BgeVectorDb.Core.Index.Hnsw;
using BgeVectorDb.Core.Tests.Index;

namespace BgeVectorDb.Core.Tests;

/// <summary>Entry point of the test assembly (the test SDK's generated one is turned off): lets a test
/// re-run checks in a child process under different runtime settings (e.g. DOTNET_EnableAVX2=0).</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["kernel-check"])
        {
            var failures = KernelTests.Check();
            foreach (var f in failures) Console.WriteLine(f);
            Console.WriteLine(failures.Count == 0 ? $"kernel-check ok width={Kernels.VectorWidthBits}" : "kernel-check failed");
            return failures.Count == 0 ? 0 : 1;
        }
        return 0;
    }
}
