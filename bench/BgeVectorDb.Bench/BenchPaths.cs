using BgeVectorDb.Common.Beir;

namespace BgeVectorDb.Bench;

/// <summary>Where the harnesses find the repository, the shared data (repoRoot/../shared/data, env
/// BGE_SHARED_DATA overrides) and their output folder (bench/out).</summary>
internal static class BenchPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string SharedData
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("BGE_SHARED_DATA");
            return !string.IsNullOrEmpty(env) ? env : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
        }
    }

    public static string Out => Path.Combine(RepoRoot, "bench", "out");

    /// <summary>The BEIR SciFact folder under <see cref="SharedData"/>.</summary>
    public static string SciFact => Path.Combine(SharedData, "scifact-beir");

    /// <summary>The first <paramref name="docs"/> SciFact documents as embedded (title + " " + text, <see cref="BeirDocument.FullText"/>).</summary>
    public static string[] SciFactTexts(int docs) => BeirReader.ReadCorpus(SciFact).Take(docs).Select(d => d.FullText).ToArray();

    private static string FindRepoRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "BgeVectorDb.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("Repository root (BgeVectorDb.sln) not found above the current or the program directory.");
    }
}
