using BgeVectorDb.Server.Tests.Infrastructure;

namespace BgeVectorDb.Server.Tests.Cli;

/// <summary>bgevdb against a real server that embeds and reranks (tiny synthetic models).</summary>
public sealed class CliModelServerTests(ModelServerFixture fixture) : IClassFixture<ModelServerFixture>
{
    private Task<CliRun> Run(params string[] args) => CliRun.RunAsync([.. args, "--server", fixture.Server.Address]);

    [Fact]
    public async Task Beir_ingest_then_text_search_with_rerank_and_health()
    {
        // A generous timeout: the first call also connects, and test machines can be loaded.
        var health = await Run("health", "--timeout", "60");
        Assert.True(health.ExitCode == 0, health.ToString());
        Assert.Contains("SERVING", health.Stdout);

        Assert.Equal(0, (await Run("collections", "create", "clisci")).ExitCode);
        var ingest = await Run("ingest", "clisci", "--beir", SharedData.SciFact, "--limit", "300", "--batch-size", "50");
        Assert.True(ingest.ExitCode == 0, ingest.ToString());
        Assert.Contains("300", ingest.Stdout + ingest.Stderr);

        var stats = await Run("collections", "stats", "clisci", "--json");
        Assert.Contains("\"document_count\":\"300\"", stats.Stdout.Replace(" ", ""));

        var search = await Run("search", "clisci", "0-dimensional biomaterials show inductive properties", "-k", "5", "--json");
        Assert.True(search.ExitCode == 0, search.ToString());
        Assert.Contains("\"reranked\":true", search.Stdout.Replace(" ", ""));
        Assert.Contains("rerank_score", search.Stdout);

        var info = await Run("info");
        Assert.Contains(TestData.EmbeddingModelId, info.Stdout);
        Assert.Contains("cpu", info.Stdout);
    }
}
