using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace BgeVectorDb.Common.Models;

/// <summary>What a model does.</summary>
public enum ModelKind
{
    /// <summary>Bi-encoder: text to one vector (CLS pooling).</summary>
    Embedding,

    /// <summary>Cross-encoder: (query, document) pair to one relevance logit.</summary>
    Reranker,
}

/// <summary>Model families (the <c>model_type</c> of config.json), as <c>IModelTokenizer.Family</c> names them.</summary>
public static class ModelFamilies
{
    /// <summary>BERT, WordPiece vocab.txt.</summary>
    public const string Bert = "bert";

    /// <summary>XLM-RoBERTa, SentencePiece with fairseq id offsets.</summary>
    public const string XlmRoberta = "xlm-roberta";
}

/// <summary>One needed file, satisfied by any of <see cref="Candidates"/> (relative paths, '/'-separated,
/// in order of preference).</summary>
public sealed record ModelFileRequirement(IReadOnlyList<string> Candidates)
{
    /// <summary>"a or b".</summary>
    public override string ToString() => string.Join(" or ", Candidates);
}

/// <summary>A model the resolver knows how to find and download.</summary>
/// <param name="Id">Hub id, e.g. "BAAI/bge-small-en-v1.5".</param>
/// <param name="Kind">Embedding or reranker; for unknown ids read from config.json once the files are there.</param>
/// <param name="Family">"bert" or "xlm-roberta"; null for unknown ids until config.json is read.</param>
/// <param name="Dimension">Output vector size of an embedding model (hidden size); null for rerankers and unknown ids.</param>
/// <param name="QueryInstruction">Query instruction preset, or null (rerankers, unknown ids).</param>
/// <param name="Required">Files that must be present (each satisfied by one of its candidates).</param>
/// <param name="Optional">Files taken when present (e.g. ONNX external data, tokenizer.json).</param>
/// <param name="IsKnown">True for catalog entries, false for a user's own model.</param>
public sealed record ModelDescriptor(
    string Id,
    ModelKind? Kind,
    string? Family,
    int? Dimension,
    string? QueryInstruction,
    IReadOnlyList<ModelFileRequirement> Required,
    IReadOnlyList<string> Optional,
    bool IsKnown);

/// <summary>The BGE models this build knows (bge-m3 is not supported).</summary>
public static partial class ModelCatalog
{
    /// <summary>English query instruction of the bge-*-en-v1.5 models.</summary>
    public const string EnglishInstruction = "Represent this sentence for searching relevant passages: ";

    /// <summary>Chinese query instruction of the bge-*-zh-v1.5 models.</summary>
    public const string ChineseInstruction = "为这个句子生成表示以用于检索相关文章：";

    /// <summary>The ONNX graph, as the BAAI repos lay it out (root model.onnx accepted for local exports).</summary>
    public static readonly ModelFileRequirement OnnxFile = new(["onnx/model.onnx", "model.onnx"]);

    /// <summary>The model configuration.</summary>
    public static readonly ModelFileRequirement ConfigFile = new(["config.json"]);

    /// <summary>Files downloaded whenever the repo lists them.</summary>
    internal static readonly string[] OptionalFiles =
        ["onnx/model.onnx_data", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "sentencepiece.bpe.model",
         "modules.json", "1_Pooling/config.json", "config_sentence_transformers.json"];

    /// <summary>Every known model, embedding models first.</summary>
    public static IReadOnlyList<ModelDescriptor> All { get; } =
    [
        Embedding("BAAI/bge-small-en-v1.5", 384, EnglishInstruction),
        Embedding("BAAI/bge-base-en-v1.5", 768, EnglishInstruction),
        Embedding("BAAI/bge-large-en-v1.5", 1024, EnglishInstruction),
        Embedding("BAAI/bge-small-zh-v1.5", 512, ChineseInstruction),
        Embedding("BAAI/bge-base-zh-v1.5", 768, ChineseInstruction),
        Embedding("BAAI/bge-large-zh-v1.5", 1024, ChineseInstruction),
        Reranker("BAAI/bge-reranker-base"),
        Reranker("BAAI/bge-reranker-large"),
        Reranker("BAAI/bge-reranker-v2-m3"),
    ];

    /// <summary>Finds a known model by id, case-insensitively; a bare name ("bge-small-en-v1.5") matches its
    /// BAAI entry.</summary>
    public static bool TryGet(string modelId, [NotNullWhen(true)] out ModelDescriptor? descriptor)
    {
        foreach (var d in All)
        {
            if (d.Id.Equals(modelId, StringComparison.OrdinalIgnoreCase)
                || (!modelId.Contains('/') && d.Id.EndsWith("/" + modelId, StringComparison.OrdinalIgnoreCase)))
            {
                descriptor = d;
                return true;
            }
        }
        descriptor = null;
        return false;
    }

    /// <summary>The catalog entry, or a descriptor for a user's own model whose family comes from config.json.</summary>
    public static ModelDescriptor Describe(string modelId)
    {
        ValidateId(modelId);
        return TryGet(modelId, out var known)
            ? known
            : new ModelDescriptor(modelId, null, null, null, null, [ConfigFile, OnnxFile], OptionalFiles, IsKnown: false);
    }

    /// <summary>Tokenizer files a family needs: BERT vocab.txt + tokenizer_config.json; XLM-R tokenizer.json
    /// or sentencepiece.bpe.model. Empty for other families.</summary>
    public static IReadOnlyList<ModelFileRequirement> TokenizerRequirements(string? family) => family switch
    {
        ModelFamilies.Bert => [new(["vocab.txt"]), new(["tokenizer_config.json"])],
        ModelFamilies.XlmRoberta => [new(["tokenizer.json", "sentencepiece.bpe.model"])],
        _ => [],
    };

    /// <summary>Throws <see cref="ArgumentException"/> unless the id is "name" or "org/name" made of
    /// letters, digits, '.', '_' and '-' (it becomes a path and a URL).</summary>
    public static void ValidateId(string modelId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        if (!IdPattern().IsMatch(modelId) || modelId.Split('/').Any(p => p is "." or ".."))
        {
            throw new ArgumentException($"Invalid model id '{modelId}': expected 'org/name' or 'name' (letters, digits, '.', '_', '-').", nameof(modelId));
        }
    }

    /// <summary>Splits "org/name" into its parts; org is null for a bare name.</summary>
    public static (string? Org, string Name) Split(string modelId)
    {
        var slash = modelId.IndexOf('/');
        return slash < 0 ? (null, modelId) : (modelId[..slash], modelId[(slash + 1)..]);
    }

    private static ModelDescriptor Embedding(string id, int dimension, string instruction) =>
        new(id, ModelKind.Embedding, ModelFamilies.Bert, dimension, instruction,
            [ConfigFile, OnnxFile, .. TokenizerRequirements(ModelFamilies.Bert)], OptionalFiles, IsKnown: true);

    private static ModelDescriptor Reranker(string id) =>
        new(id, ModelKind.Reranker, ModelFamilies.XlmRoberta, null, null,
            [ConfigFile, OnnxFile, .. TokenizerRequirements(ModelFamilies.XlmRoberta)], OptionalFiles, IsKnown: true);

    // \z, not $: '$' also matches before a final newline.
    [GeneratedRegex(@"\A[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?\z")]
    private static partial Regex IdPattern();
}
