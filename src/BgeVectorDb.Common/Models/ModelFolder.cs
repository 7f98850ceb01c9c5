using System.Text.Json;

namespace BgeVectorDb.Common.Models;

/// <summary>Checks that a folder holds every file a model needs and reads what config.json says about it.</summary>
internal static class ModelFolder
{
    /// <summary>Result of <see cref="Inspect"/>: a usable model (Problem null) or the reason it is not.</summary>
    internal sealed record Check(string? Problem, ResolvedModel? Model);

    /// <summary>Looks at <paramref name="directory"/> for <paramref name="descriptor"/>'s files.</summary>
    public static Check Inspect(string directory, ModelDescriptor descriptor, ModelSource source, string? revision)
    {
        if (!Directory.Exists(directory))
        {
            return new Check("folder does not exist", null);
        }
        var missing = Missing(directory, descriptor.Required);
        if (missing.Count > 0)
        {
            return new Check("missing " + string.Join(", ", missing), null);
        }
        ConfigInfo config;
        try
        {
            config = ReadConfig(Path.Combine(directory, "config.json"));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return new Check($"config.json unreadable: {e.Message}", null);
        }

        var family = descriptor.Family ?? config.ModelType;
        if (family is null)
        {
            return new Check("config.json has no model_type", null);
        }
        if (descriptor.Family is not null && config.ModelType is not null && config.ModelType != descriptor.Family)
        {
            return new Check($"config.json says model_type '{config.ModelType}', but {descriptor.Id} is a {descriptor.Family} model", null);
        }
        var tokenizerMissing = Missing(directory, ModelCatalog.TokenizerRequirements(family));
        if (tokenizerMissing.Count > 0)
        {
            return new Check($"missing {string.Join(", ", tokenizerMissing)} (needed by a {family} tokenizer)", null);
        }
        var kind = descriptor.Kind ?? config.Kind;
        // What the files are wins over the catalog: a synthetic stand-in may be smaller than the real model.
        var dimension = kind == ModelKind.Embedding ? config.HiddenSize ?? descriptor.Dimension : null;
        var onnx = ModelCatalog.OnnxFile.Candidates.Select(c => FullPath(directory, c)).First(File.Exists);
        var model = new ResolvedModel(descriptor.Id, Path.GetFullPath(directory), source, kind, family, dimension,
            descriptor.QueryInstruction, onnx, revision);
        return new Check(null, model);
    }

    /// <summary>Requirements none of whose candidates exist in <paramref name="directory"/>.</summary>
    public static List<string> Missing(string directory, IEnumerable<ModelFileRequirement> requirements) =>
        requirements.Where(r => !r.Candidates.Any(c => File.Exists(FullPath(directory, c)))).Select(r => r.ToString()).ToList();

    /// <summary>Maps a '/'-separated relative path under <paramref name="directory"/>.</summary>
    public static string FullPath(string directory, string relativePath) =>
        Path.Combine(directory, relativePath.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>What the resolver needs from config.json.</summary>
    internal sealed record ConfigInfo(string? ModelType, int? HiddenSize, ModelKind Kind);

    /// <summary>Reads model_type (normalised: "xlm_roberta" -> "xlm-roberta"), hidden_size and the kind
    /// (architectures ending in ForSequenceClassification = reranker).</summary>
    public static ConfigInfo ReadConfig(string path)
    {
        using var stream = File.OpenRead(path);
        using var doc = JsonDocument.Parse(stream);
        var root = doc.RootElement;
        string? modelType = null;
        int? hidden = null;
        var kind = ModelKind.Embedding;
        if (root.ValueKind == JsonValueKind.Object)
        {
            if (root.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String)
            {
                modelType = mt.GetString()?.Trim().ToLowerInvariant().Replace('_', '-');
            }
            if (root.TryGetProperty("hidden_size", out var hs) && hs.ValueKind == JsonValueKind.Number && hs.TryGetInt32(out var h))
            {
                hidden = h;
            }
            if (root.TryGetProperty("architectures", out var arch) && arch.ValueKind == JsonValueKind.Array
                && arch.EnumerateArray().Any(a => a.ValueKind == JsonValueKind.String
                    && (a.GetString() ?? "").EndsWith("ForSequenceClassification", StringComparison.Ordinal)))
            {
                kind = ModelKind.Reranker;
            }
        }
        else
        {
            throw new JsonException("config.json is not a JSON object");
        }
        return new ConfigInfo(string.IsNullOrEmpty(modelType) ? null : modelType, hidden, kind);
    }
}
