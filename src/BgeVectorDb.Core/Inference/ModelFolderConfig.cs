using System.Text.Json;

namespace BgeVectorDb.Core.Inference;

/// <summary>
/// What the engine reads from a Hugging Face style model folder: <c>config.json</c> (model_type,
/// hidden_size, max_position_embeddings), <c>tokenizer_config.json</c> (model_max_length) and where the ONNX
/// file is (<c>onnx/model.onnx</c>, else <c>model.onnx</c>).
/// </summary>
internal sealed record ModelFolderConfig(
    string Folder, string OnnxPath, string ModelType, int? HiddenSize, int? MaxPositionEmbeddings, int? TokenizerMaxLength = null)
{
    /// <summary>True for XLM-RoBERTa (and RoBERTa) models, whose position table starts at padding_idx + 1 = 2.</summary>
    public bool IsRobertaFamily => ModelType is "xlm-roberta" or "roberta";

    /// <summary>Tokens a model of this config can take in one row: max_position_embeddings, minus 2 for the
    /// RoBERTa family; null when the config does not say.</summary>
    public int? PositionLimit => MaxPositionEmbeddings is { } p ? (IsRobertaFamily ? p - 2 : p) : null;

    /// <summary>The model's own limit: min(tokenizer_config.json model_max_length, <see cref="PositionLimit"/>),
    /// either alone when the other is unknown; null when neither is known.</summary>
    public int? ModelMaxLength => (TokenizerMaxLength, PositionLimit) switch
    {
        ({ } t, { } p) => Math.Min(t, p),
        ({ } t, null) => t,
        (null, { } p) => p,
        _ => null,
    };

    /// <summary>Tokens per row: min(<paramref name="requested"/> when set, <see cref="ModelMaxLength"/>); 512
    /// (<see cref="Tokenization.ModelTokenizerFactory.DefaultMaxLength"/>) when neither is known.</summary>
    public int EffectiveMaxLength(int? requested)
    {
        if (requested is < 4)
        {
            throw new ArgumentOutOfRangeException(nameof(requested), requested, "max length must be >= 4 tokens");
        }

        return (requested, ModelMaxLength) switch
        {
            ({ } r, { } m) => Math.Min(r, m),
            ({ } r, null) => r,
            (null, { } m) => m,
            _ => Tokenization.ModelTokenizerFactory.DefaultMaxLength,
        };
    }

    public static ModelFolderConfig Read(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Model folder not found: {folder}");
        }

        var onnx = Path.Combine(folder, "onnx", "model.onnx");
        if (!File.Exists(onnx))
        {
            var root = Path.Combine(folder, "model.onnx");
            onnx = File.Exists(root)
                ? root
                : throw new FileNotFoundException($"No onnx/model.onnx or model.onnx in model folder {folder}", onnx);
        }

        var configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"No config.json in model folder {folder}", configPath);
        }

        using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
        var root2 = doc.RootElement;
        var modelType = root2.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String
            ? mt.GetString()!
            : throw new InvalidDataException($"{configPath}: no model_type");
        return new ModelFolderConfig(folder, onnx, modelType, ReadInt(root2, "hidden_size"), ReadInt(root2, "max_position_embeddings"),
            Tokenization.ModelTokenizerFactory.ReadModelMaxLength(Path.Combine(folder, "tokenizer_config.json")));
    }

    private static int? ReadInt(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : null;
}
