namespace BgeVectorDb.TestSupport;

/// <summary>
/// The repository root (the folder above the test's bin folder that holds BgeVectorDb.sln) and the shared data
/// folder next to the repository (repoRoot/../shared/data; env BGE_SHARED_DATA overrides). Data that is missing
/// fails the test loudly, naming the path and the override.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string> RepoRootLazy = new(FindRepoRoot);

    /// <summary>The folder holding BgeVectorDb.sln, found upwards from the test's bin folder.</summary>
    public static string RepoRoot => RepoRootLazy.Value;

    /// <summary>The shared data folder: env BGE_SHARED_DATA, else repoRoot/../shared/data.</summary>
    public static string Folder
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("BGE_SHARED_DATA");
            var path = string.IsNullOrEmpty(env) ? Path.Combine(RepoRoot, "..", "shared", "data") : env;
            return RequireFolder(Path.GetFullPath(path));
        }
    }

    /// <summary>bert-base-uncased vocab.txt (30522 lines).</summary>
    public static string BertVocab => RequireFile(Path.Combine(Folder, "tokenizer-bert-base-uncased", "vocab.txt"));

    /// <summary>The SciFact BEIR folder (corpus.jsonl, queries.jsonl, qrels/{train,test}.tsv).</summary>
    public static string SciFact => BeirFolder("scifact-beir");

    /// <summary>The MS MARCO subset BEIR folder (graded qrels, no header).</summary>
    public static string MsMarco => BeirFolder("msmarco-subset-beir");

    /// <summary>Returns <paramref name="path"/> when the file exists; otherwise throws naming it.</summary>
    public static string RequireFile(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"Test data file missing: {path} (set BGE_SHARED_DATA to the shared data folder)", path);

    /// <summary>Returns <paramref name="path"/> when the folder exists; otherwise throws naming it.</summary>
    public static string RequireFolder(string path) =>
        Directory.Exists(path) ? path : throw new DirectoryNotFoundException($"Test data folder missing: {path} (set BGE_SHARED_DATA to the shared data folder)");

    private static string BeirFolder(string name)
    {
        var folder = Path.Combine(Folder, name);
        RequireFile(Path.Combine(folder, "corpus.jsonl"));
        return folder;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BgeVectorDb.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"Repository root (BgeVectorDb.sln) not found above {AppContext.BaseDirectory}");
    }
}
