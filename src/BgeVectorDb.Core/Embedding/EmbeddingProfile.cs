using System.Text.Json;
using BgeVectorDb.Core.Inference;

namespace BgeVectorDb.Core.Embedding;

/// <summary>
/// What a bi-encoder's folder says about how to use it, read the way sentence-transformers reads it:
/// <list type="bullet">
/// <item>pooling: <c>modules.json</c> names the Pooling module's folder (usually <c>1_Pooling</c>), whose
/// <c>config.json</c> sets one of <c>pooling_mode_cls_token</c>, <c>pooling_mode_mean_tokens</c>,
/// <c>pooling_mode_lasttoken</c>; without these files: CLS (the BGE convention);</item>
/// <item>normalisation: whether <c>modules.json</c> lists a <c>sentence_transformers.models.Normalize</c>
/// module; without modules.json: normalised (BGE);</item>
/// <item>prompts: <c>config_sentence_transformers.json</c> <c>prompts</c> ("query"; "document", "passage" or
/// "corpus" for documents; <c>default_prompt_name</c> for whichever side has none); when the file has no
/// prompts: the BGE preset of the model id (<see cref="QueryInstructions.ForModel"/>), which is none for
/// non-BGE ids.</item>
/// </list>
/// </summary>
/// <param name="Pooling">How token vectors become one vector.</param>
/// <param name="Normalize">Whether the pooled vector is L2-normalised.</param>
/// <param name="QueryPrompt">Prepended to queries; "" = none.</param>
/// <param name="DocumentPrompt">Prepended to documents; "" = none.</param>
/// <param name="Source">Where pooling and prompts came from, for logs and errors.</param>
public sealed record EmbeddingProfile(PoolingMode Pooling, bool Normalize, string QueryPrompt, string DocumentPrompt, string Source)
{
    /// <summary>sentence-transformers' file listing the modules of a model.</summary>
    public const string ModulesFileName = "modules.json";

    /// <summary>sentence-transformers' file with prompts.</summary>
    public const string SentenceTransformersConfigFileName = "config_sentence_transformers.json";

    private const string PoolingType = "sentence_transformers.models.Pooling";
    private const string NormalizeType = "sentence_transformers.models.Normalize";

    /// <summary>Reads <paramref name="folder"/>'s sentence-transformers files for <paramref name="modelId"/>.</summary>
    /// <exception cref="InvalidDataException">A file is malformed or asks for a pooling this engine does not do
    /// (max, mean-sqrt-len, weighted mean).</exception>
    public static EmbeddingProfile Read(string folder, string modelId)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(modelId);
        var sources = new List<string>();
        var (pooling, normalize) = ReadPooling(folder, sources);
        var (query, document) = ReadPrompts(folder, modelId, sources);
        return new EmbeddingProfile(pooling, normalize, query, document, string.Join("; ", sources));
    }

    private static (PoolingMode Pooling, bool Normalize) ReadPooling(string folder, List<string> sources)
    {
        var modulesPath = Path.Combine(folder, ModulesFileName);
        string? poolingFolder = null;
        bool normalize = true;
        if (File.Exists(modulesPath))
        {
            using var doc = Parse(modulesPath);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"{modulesPath}: a JSON array of modules expected");
            }

            normalize = false;
            foreach (var module in doc.RootElement.EnumerateArray())
            {
                var type = module.ValueKind == JsonValueKind.Object && module.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
                    ? t.GetString()
                    : null;
                if (type == NormalizeType)
                {
                    normalize = true;
                }
                else if (type == PoolingType)
                {
                    poolingFolder = module.TryGetProperty("path", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
                    if (string.IsNullOrEmpty(poolingFolder) || poolingFolder.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(poolingFolder))
                    {
                        throw new InvalidDataException($"{modulesPath}: the Pooling module has no usable \"path\"");
                    }
                }
            }

            sources.Add($"{ModulesFileName} (normalize: {(normalize ? "yes" : "no")})");
        }
        else if (Directory.Exists(Path.Combine(folder, "1_Pooling")))
        {
            poolingFolder = "1_Pooling";
        }

        if (poolingFolder is null)
        {
            sources.Add("pooling: cls (no sentence-transformers Pooling module; BGE default)");
            return (PoolingMode.Cls, normalize);
        }

        var configPath = Path.Combine(folder, poolingFolder.Replace('/', Path.DirectorySeparatorChar), "config.json");
        if (!File.Exists(configPath))
        {
            throw new InvalidDataException($"{configPath}: the Pooling module's config.json is missing");
        }

        using var pooling = Parse(configPath);
        var root = pooling.RootElement;
        bool Flag(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
        var modes = new List<PoolingMode>();
        if (Flag("pooling_mode_cls_token")) modes.Add(PoolingMode.Cls);
        if (Flag("pooling_mode_mean_tokens")) modes.Add(PoolingMode.Mean);
        if (Flag("pooling_mode_lasttoken")) modes.Add(PoolingMode.LastToken);
        var unsupported = new[] { "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens" }.Where(Flag).ToList();
        if (unsupported.Count > 0 || modes.Count != 1)
        {
            throw new InvalidDataException(
                $"{configPath}: exactly one of pooling_mode_cls_token, pooling_mode_mean_tokens, pooling_mode_lasttoken must be true"
                + (unsupported.Count > 0 ? $" ({string.Join(", ", unsupported)} is not supported)" : ""));
        }

        sources.Add($"pooling: {PoolingModes.Name(modes[0])} ({poolingFolder}/config.json)");
        return (modes[0], normalize);
    }

    private static (string Query, string Document) ReadPrompts(string folder, string modelId, List<string> sources)
    {
        var path = Path.Combine(folder, SentenceTransformersConfigFileName);
        if (File.Exists(path))
        {
            using var doc = Parse(path);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("prompts", out var prompts)
                && prompts.ValueKind == JsonValueKind.Object && prompts.EnumerateObject().Any())
            {
                string? Prompt(string name) => prompts.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var defaultName = root.TryGetProperty("default_prompt_name", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                var fallback = defaultName is null ? null : Prompt(defaultName);
                var query = Prompt("query") ?? fallback ?? "";
                var document = Prompt("document") ?? Prompt("passage") ?? Prompt("corpus") ?? fallback ?? "";
                sources.Add($"prompts: {SentenceTransformersConfigFileName}");
                return (query, document);
            }
        }

        var preset = QueryInstructions.ForModel(modelId);
        sources.Add(preset.Length > 0 ? "prompts: BGE preset of the model id" : "prompts: none (no prompts in the model folder, not a BGE id)");
        return (preset, "");
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}
