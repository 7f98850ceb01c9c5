namespace BgeVectorDb.Evaluation.Tests;

/// <summary>The shared data folder: repoRoot/../shared/data, env BGE_SHARED_DATA overrides.</summary>
internal static class TestData
{
    public static string SharedData
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("BGE_SHARED_DATA");
            if (!string.IsNullOrEmpty(env)) return env;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "BgeVectorDb.sln"))) return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data"));
            }
            throw new InvalidOperationException("repository root (BgeVectorDb.sln) not found");
        }
    }

    public static string SciFact => Require(Path.Combine(SharedData, "scifact-beir"));

    public static string MsMarco => Require(Path.Combine(SharedData, "msmarco-subset-beir"));

    private static string Require(string folder) =>
        Directory.Exists(folder) ? folder : throw new DirectoryNotFoundException($"{folder} not found (set BGE_SHARED_DATA)");
}
