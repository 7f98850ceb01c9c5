using System.Text.Json;
using BgeVectorDb.Synthetic;

namespace BgeVectorDb.Server.Tests.Infrastructure;

/// <summary>Shared data (repoRoot/../shared/data, env BGE_SHARED_DATA overrides) and the tiny synthetic
/// models the server tests run on.</summary>
public static class TestData
{
    public const string EmbeddingModelId = "synthetic/tiny-embed";
    public const string RerankerModelId = "synthetic/tiny-rerank";

    public static string SharedData
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("BGE_SHARED_DATA");
            if (!string.IsNullOrEmpty(env)) return env;
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "BgeVectorDb.sln"))) dir = dir.Parent;
            if (dir is null) throw new InvalidOperationException("repository root (BgeVectorDb.sln) not found above " + AppContext.BaseDirectory);
            var path = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data"));
            Assert.True(Directory.Exists(path), $"shared test data missing: {path} (set BGE_SHARED_DATA)");
            return path;
        }
    }

    public static string BertVocab => Path.Combine(SharedData, "tokenizer-bert-base-uncased", "vocab.txt");

    public static string SciFact => Path.Combine(SharedData, "scifact-beir");

    /// <summary>Writes the tiny BERT bi-encoder and BERT cross-encoder into {modelsFolder}/synthetic/...</summary>
    public static void WriteTinyModels(string modelsFolder)
    {
        var embed = SyntheticModelGenerator.Write(SyntheticModelSpec.Preset("tiny", seed: 11), Path.Combine(modelsFolder, EmbeddingModelId), BertVocab);
        // "synthetic/tiny-embed" is not a BGE id, so its query prompt comes from its folder, as for a real
        // sentence-transformers export (e.g. snowflake-arctic-embed).
        File.WriteAllText(Path.Combine(embed, "config_sentence_transformers.json"),
            """{"prompts":{"query":"Represent this sentence for searching relevant passages: "},"default_prompt_name":null}""");
        SyntheticModelGenerator.Write(SyntheticModelSpec.Preset("tiny", kind: SyntheticModelKind.CrossEncoder, seed: 12),
            Path.Combine(modelsFolder, RerankerModelId), BertVocab);
    }

    public sealed record CorpusDoc(string Id, string Title, string Text)
    {
        public string FullText => Title.Length > 0 ? Title + " " + Text : Text;
    }

    public static IEnumerable<CorpusDoc> ReadCorpus(string beirFolder)
    {
        foreach (var line in File.ReadLines(Path.Combine(beirFolder, "corpus.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            yield return new CorpusDoc(root.GetProperty("_id").GetString()!, root.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "",
                root.GetProperty("text").GetString()!);
        }
    }

    public static IEnumerable<(string Id, string Text)> ReadQueries(string beirFolder)
    {
        foreach (var line in File.ReadLines(Path.Combine(beirFolder, "queries.jsonl")))
        {
            using var doc = JsonDocument.Parse(line);
            yield return (doc.RootElement.GetProperty("_id").GetString()!, doc.RootElement.GetProperty("text").GetString()!);
        }
    }
}
