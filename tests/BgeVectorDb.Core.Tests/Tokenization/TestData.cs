namespace BgeVectorDb.Core.Tests.Tokenization;

/// <summary>Locates the repository root and the shared data folder (repoRoot/../shared/data,
/// overridable by env BGE_SHARED_DATA). Missing data fails the test loudly.</summary>
internal static class TestData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string SharedData
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("BGE_SHARED_DATA");
            return string.IsNullOrEmpty(env)
                ? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"))
                : Path.GetFullPath(env);
        }
    }

    public static string BertVocab => RequireFile(Path.Combine(SharedData, "tokenizer-bert-base-uncased", "vocab.txt"));

    public static string RequireFile(string path)
    {
        Assert.True(File.Exists(path), $"Test data file missing: {path} (set BGE_SHARED_DATA to the shared data folder)");
        return path;
    }

    private static string FindRepoRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BgeVectorDb.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"BgeVectorDb.sln not found above {AppContext.BaseDirectory}");
    }
}
