using System.Globalization;
using System.Text.Json;
using BgeVectorDb.Cli;
using BgeVectorDb.Server.Tests.Infrastructure;

namespace BgeVectorDb.Server.Tests.Cli;

/// <summary>The CLI in-process against a real server process without models (vectors-only collections):
/// collections, streamed ingest with several batches in flight, get, delete, and server errors.</summary>
public sealed class CliVectorsOnlyServerTests() : TempServer("bgevdb-cli")
{
    private const int Dim = 4;

    protected override IReadOnlyDictionary<string, string> Settings => ServerSettings.NoModels(("Limits:MaxBatchSize", "50"));

    private Task<CliRun> Run(params string[] args) => CliRun.RunAsync([.. args, "--server", Server.Address]);

    private string WriteJsonl(string name, int count, int badDimensionAt = -1)
    {
        var path = Dir.Sub(name);
        using var writer = new StreamWriter(path);
        for (var i = 0; i < count; i++)
        {
            var dim = i == badDimensionAt ? Dim + 1 : Dim;
            var vector = string.Join(",", Enumerable.Range(0, dim).Select(j => ((i * 7 + j) % 11 / 10.0).ToString(CultureInfo.InvariantCulture)));
            writer.WriteLine($"{{\"id\":\"d{i}\",\"text\":\"doc {i}\",\"metadata\":{{\"n\":{i},\"even\":{(i % 2 == 0 ? "true" : "false")}}},\"vector\":[{vector}]}}");
        }
        return path;
    }

    private async Task CreateAsync(string name)
    {
        var run = await Run("collections", "create", name, "--model", "none", "--dimension", Dim.ToString(CultureInfo.InvariantCulture),
            "--reranker", "none", "--distance", "dot", "--m", "8");
        Assert.True(run.ExitCode == CliApp.ExitOk, run.ToString());
        Assert.StartsWith($"created collection '{name}'", run.Stdout);
    }

    [Fact]
    public async Task Create_ingest_stats_get_delete_round_trip()
    {
        await CreateAsync("v");

        var get = await Run("collections", "get", "v", "--json");
        Assert.True(get.ExitCode == CliApp.ExitOk, get.ToString());
        using (var info = JsonDocument.Parse(get.Stdout))
        {
            var config = info.RootElement.GetProperty("config");
            Assert.Equal("none", config.GetProperty("embedding_model").GetString());
            Assert.Equal(Dim, config.GetProperty("dimension").GetInt32());
            Assert.Equal("DISTANCE_DOT", config.GetProperty("distance").GetString());
            Assert.Equal(8, config.GetProperty("hnsw").GetProperty("m").GetInt32());
        }

        var file = WriteJsonl("docs.jsonl", 300);
        var ingest = await Run("ingest", "v", "--jsonl", file, "--batch-size", "16", "--window", "3", "--json");
        Assert.True(ingest.ExitCode == CliApp.ExitOk, ingest.ToString());
        using (var summary = JsonDocument.Parse(ingest.Stdout))
        {
            Assert.Equal(300, summary.RootElement.GetProperty("documents").GetInt64());
            Assert.Equal(19, summary.RootElement.GetProperty("batches").GetInt64());
            Assert.Equal(0, summary.RootElement.GetProperty("replaced").GetInt64());
        }
        Assert.Contains("300/300 100%", ingest.Stderr);

        var again = await Run("ingest", "v", "--jsonl", file, "--limit", "40");
        Assert.True(again.ExitCode == CliApp.ExitOk, again.ToString());
        Assert.StartsWith("ingested 40 docs in ", again.Stdout);
        Assert.Contains(", 40 replaced", again.Stdout);

        var stats = await Run("collections", "stats", "v", "--json");
        using (var s = JsonDocument.Parse(stats.Stdout))
        {
            Assert.Equal("300", s.RootElement.GetProperty("document_count").GetString());
        }

        var byVector = await Run("search", "v", "--vector", "[1,0,0,0]", "-k", "3", "--filter", "{\"field\":{\"key\":\"even\",\"equals\":true}}", "--json");
        Assert.True(byVector.ExitCode == CliApp.ExitOk, byVector.ToString());
        using (var response = JsonDocument.Parse(byVector.Stdout))
        {
            var hits = response.RootElement.GetProperty("hits").EnumerateArray().ToList();
            Assert.Equal(3, hits.Count);
            Assert.All(hits, h => Assert.True(h.GetProperty("metadata").GetProperty("even").GetProperty("bool_value").GetBoolean()));
            Assert.False(response.RootElement.GetProperty("reranked").GetBoolean());
        }

        var like = await Run("search", "v", "--like", "d0", "-k", "2");
        Assert.True(like.ExitCode == CliApp.ExitOk, like.ToString());
        var likeLines = like.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, likeLines.Length); // header, 2 hits, timings
        Assert.DoesNotContain(likeLines[1..3], l => l.Split("  ")[1].Trim() == "d0");
        Assert.StartsWith("embed ", likeLines[3]);

        var docs = await Run("get", "v", "d5", "d999");
        Assert.True(docs.ExitCode == CliApp.ExitError, docs.ToString());
        Assert.Contains("id:       d5", docs.Stdout);
        Assert.Contains("text:     doc 5", docs.Stdout);
        Assert.Contains("metadata: {\"even\":false,\"n\":5}", docs.Stdout);
        Assert.Contains("NOT_FOUND: no document with id 'd999' in 'v'", docs.Stderr);

        var delete = await Run("delete", "v", "d5", "d6", "d999");
        Assert.True(delete.ExitCode == CliApp.ExitOk, delete.ToString());
        Assert.Equal("deleted 2 of 3 document(s)", delete.Stdout.Trim());

        var list = await Run("collections", "list");
        Assert.Contains("v", list.Stdout);
        Assert.Contains("298", list.Stdout);
    }

    [Fact]
    public async Task Server_errors_exit_1_with_code_and_detail()
    {
        var missing = await Run("collections", "get", "nope");
        Assert.True(missing.ExitCode == CliApp.ExitError, missing.ToString());
        Assert.StartsWith("NOT_FOUND: ", missing.Stderr);
        Assert.Contains("nope", missing.Stderr);

        await CreateAsync("w");
        var text = await Run("search", "w", "a text query");
        Assert.True(text.ExitCode == CliApp.ExitError, text.ToString());
        Assert.Matches("^[A-Z_]+: ", text.Stderr);
    }

    [Fact]
    public async Task Ingest_stops_at_the_batch_the_server_rejects_and_keeps_the_acked_ones()
    {
        await CreateAsync("x");
        var file = WriteJsonl("bad.jsonl", 100, badDimensionAt: 40);

        var run = await Run("ingest", "x", "--jsonl", file, "--batch-size", "16", "--window", "4");
        Assert.True(run.ExitCode == CliApp.ExitError, run.ToString());
        var errorLines = run.Stderr.Split('\n').Where(l => !l.StartsWith('[') && l.Trim().Length > 0).Select(l => l.TrimEnd()).ToArray();
        Assert.Equal(2, errorLines.Length);
        Assert.StartsWith("INVALID_ARGUMENT: ", errorLines[0]);
        Assert.Equal($"the server rejected batch 3 ({file}:33-48); 32 documents before it were stored", errorLines[1]);

        var stats = await Run("collections", "stats", "x", "--json");
        using var s = JsonDocument.Parse(stats.Stdout);
        Assert.Equal("32", s.RootElement.GetProperty("document_count").GetString());
    }
}
