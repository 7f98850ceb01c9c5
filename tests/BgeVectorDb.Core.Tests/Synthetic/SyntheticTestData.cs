namespace BgeVectorDb.Core.Tests.Synthetic;

/// <summary>Paths of the shared test data (repoRoot/../shared/data, env BGE_SHARED_DATA overrides) and temp folders.</summary>
internal static class SyntheticTestData
{
    public static string SharedData
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("BGE_SHARED_DATA");
            if (!string.IsNullOrEmpty(env))
            {
                return env;
            }

            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BgeVectorDb.sln")))
            {
                dir = dir.Parent;
            }

            if (dir is null)
            {
                throw new InvalidOperationException("Repository root (BgeVectorDb.sln) not found above " + AppContext.BaseDirectory);
            }

            return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data"));
        }
    }

    /// <summary>bert-base-uncased vocab.txt (30522 lines); fails loudly when the shared data is missing.</summary>
    public static string BertVocab
    {
        get
        {
            var path = Path.Combine(SharedData, "tokenizer-bert-base-uncased", "vocab.txt");
            Assert.True(File.Exists(path), $"Shared test data missing: {path} (set BGE_SHARED_DATA).");
            return path;
        }
    }

    /// <summary>A fresh temporary folder, deleted when disposed.</summary>
    public static TempFolder NewTempFolder() => new();

    internal sealed class TempFolder : IDisposable
    {
        public TempFolder()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "bgevdb-synth-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temp folder is harmless.
            }
        }
    }
}
