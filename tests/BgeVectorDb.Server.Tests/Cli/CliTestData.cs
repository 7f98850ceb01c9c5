namespace BgeVectorDb.Server.Tests.Cli;

/// <summary>Shared test data (repoRoot/../shared/data, env BGE_SHARED_DATA overrides) and an in-process CLI runner.</summary>
internal static class CliTestData
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
            Assert.True(dir is not null, "Repository root (BgeVectorDb.sln) not found above " + AppContext.BaseDirectory);
            return Path.GetFullPath(Path.Combine(dir!.FullName, "..", "shared", "data"));
        }
    }

    /// <summary>SciFact BEIR folder; fails loudly when the shared data is missing.</summary>
    public static string SciFactFolder => Existing(Path.Combine(SharedData, "scifact-beir", "corpus.jsonl"), folder: true);

    /// <summary>bert-base-uncased vocab.txt.</summary>
    public static string BertVocab => Existing(Path.Combine(SharedData, "tokenizer-bert-base-uncased", "vocab.txt"), folder: false);

    private static string Existing(string file, bool folder)
    {
        Assert.True(File.Exists(file), $"Shared test data missing: {file} (set BGE_SHARED_DATA).");
        return folder ? Path.GetDirectoryName(file)! : file;
    }
}

/// <summary>Result of one in-process CLI run.</summary>
internal sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public static async Task<CliRun> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await BgeVectorDb.Cli.CliApp.RunAsync(args, stdout, stderr);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}
