using BgeVectorDb.Synthetic;

namespace BgeVectorDb.Server.Tests.Infrastructure;

/// <summary>The tiny synthetic models the server tests run on (shared data and BEIR folders: TestSupport's
/// <see cref="SharedData"/>).</summary>
public static class TestData
{
    public const string EmbeddingModelId = "synthetic/tiny-embed";
    public const string RerankerModelId = "synthetic/tiny-rerank";

    /// <summary>Writes the tiny BERT bi-encoder and BERT cross-encoder into {modelsFolder}/synthetic/...</summary>
    public static void WriteTinyModels(string modelsFolder)
    {
        var embed = TinyModels.WriteBert(Path.Combine(modelsFolder, EmbeddingModelId), seed: 11);
        // "synthetic/tiny-embed" is not a BGE id, so its query prompt comes from its folder, as for a real
        // sentence-transformers export (e.g. snowflake-arctic-embed).
        File.WriteAllText(Path.Combine(embed, "config_sentence_transformers.json"),
            """{"prompts":{"query":"Represent this sentence for searching relevant passages: "},"default_prompt_name":null}""");
        TinyModels.WriteBert(Path.Combine(modelsFolder, RerankerModelId), SyntheticModelKind.CrossEncoder, seed: 12);
    }
}
