namespace BgeVectorDb.Server.Tests.Infrastructure;

/// <summary>The server settings (as --Key=Value) the tests start servers with; each call returns a new dictionary
/// the caller may change.</summary>
public static class ServerSettings
{
    /// <summary>No models: vectors-only collections. <paramref name="more"/> adds or overrides keys.</summary>
    public static Dictionary<string, string> NoModels(params (string Key, string Value)[] more) => With(new()
    {
        ["Inference:EmbeddingModel"] = "none",
        ["Inference:RerankerModel"] = "none",
    }, more);

    /// <summary>The tiny synthetic models of <see cref="TestData.WriteTinyModels"/> from {dir}/models, no download,
    /// model cache in {dir}/cache; reranker <paramref name="reranker"/> ("none" for none).</summary>
    public static Dictionary<string, string> TinyModels(TempDirectory dir, string reranker = TestData.RerankerModelId,
        params (string Key, string Value)[] more) => With(new()
    {
        ["Models:ModelsFolder"] = dir.Sub("models"),
        ["Models:AllowDownload"] = "false",
        ["Models:CacheFolder"] = dir.Sub("cache"),
        ["Inference:EmbeddingModel"] = TestData.EmbeddingModelId,
        ["Inference:RerankerModel"] = reranker,
    }, more);

    private static Dictionary<string, string> With(Dictionary<string, string> settings, (string Key, string Value)[] more)
    {
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }
        return settings;
    }
}
