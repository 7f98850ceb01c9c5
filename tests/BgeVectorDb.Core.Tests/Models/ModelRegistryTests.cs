using BgeVectorDb.Common.Errors;
using BgeVectorDb.Common.Models;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Synthetic;

namespace BgeVectorDb.Core.Tests.Models;

/// <summary>Core's model registry (the server's ModelHost binds options to it) and the synthetic marker.</summary>
public sealed class ModelRegistryTests
{
    [Fact]
    public async Task Registry_loads_defaults_once_shares_them_per_id_and_reports_synthetic()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        TinyModels.WriteBert(Path.Combine(tmp.Path, "test", "embed"), seed: 3);
        TinyModels.WriteBert(Path.Combine(tmp.Path, "test", "rerank"), SyntheticModelKind.CrossEncoder, seed: 4);
        using var registry = new ModelRegistry(new ModelRegistryOptions
        {
            DefaultEmbeddingModel = "test/embed",
            DefaultRerankerModel = "test/rerank",
            Runtime = new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 },
        }, new ModelResolver(new ModelOptions { ModelsFolder = tmp.Path, CacheFolder = Path.Combine(tmp.Path, "cache"), AllowDownload = false }));

        await registry.LoadDefaultsAsync(CancellationToken.None);

        Assert.Equal("cpu", registry.Provider.Provider);
        var embedder = registry.GetEmbedder("test/embed");
        Assert.Same(embedder, registry.GetEmbedder("TEST/Embed"));
        Assert.Same(registry.GetReranker("test/rerank"), registry.GetReranker("test/rerank"));
        Assert.Equal(32, (await embedder.EmbedQueryAsync("a query", "")).Length);
        Assert.Equal(
            [("embedding", "test/embed", 32, true), ("reranker", "test/rerank", 0, true)],
            registry.Loaded.Select(m => (m.Role, m.Id, m.Dimension, m.Synthetic)));

        var error = Assert.Throws<EngineException>(() => registry.GetEmbedder("test/missing", "model"));
        Assert.Equal(EngineErrorKind.InvalidArgument, error.Kind);
        Assert.Equal("model", error.Field);
        Assert.StartsWith("model: ", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, registry.Loaded.Count);
    }

    [Fact]
    public void Synthesised_folders_carry_the_marker_file_and_older_ones_are_recognised_by_config()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        var folder = TinyModels.WriteBert(Path.Combine(tmp.Path, "new"), seed: 5);
        Assert.True(File.Exists(Path.Combine(folder, SyntheticModelMarker.FileName)));
        Assert.True(SyntheticModelMarker.IsSynthetic(folder));

        // Synthesised before the marker file existed: only the config.json object says so.
        File.Delete(Path.Combine(folder, SyntheticModelMarker.FileName));
        Assert.True(SyntheticModelMarker.IsSynthetic(folder));

        // The marker file decides when present.
        File.WriteAllText(Path.Combine(folder, SyntheticModelMarker.FileName), """{"synthetic": false}""");
        Assert.False(SyntheticModelMarker.IsSynthetic(folder));
    }

    [Fact]
    public void A_real_config_that_merely_mentions_the_marker_name_is_not_synthetic()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        // The old detection searched config.json's text for "bgevectordb_synthetic" and flagged this folder.
        File.WriteAllText(Path.Combine(tmp.Path, "config.json"),
            """{"model_type": "bert", "_comment": "\"bgevectordb_synthetic\" marks generated models; this one is real"}""");
        Assert.False(SyntheticModelMarker.IsSynthetic(tmp.Path));
        File.WriteAllText(Path.Combine(tmp.Path, "config.json"), "{ not json");
        Assert.False(SyntheticModelMarker.IsSynthetic(tmp.Path));
    }
}
