using System.Text.Json;

namespace BgeVectorDb.Core.Inference.Tokenization;

/// <summary>
/// BERT tokenizer options, named after Hugging Face's <c>tokenizer_config.json</c> keys.
/// Defaults are those of <c>BertTokenizer</c> in transformers (uncased models).
/// </summary>
public sealed record BertTokenizerSettings
{
    /// <summary><c>do_lower_case</c>; default true.</summary>
    public bool LowerCase { get; init; } = true;

    /// <summary><c>strip_accents</c>; null (default) means "strip when lowercasing".</summary>
    public bool? StripAccents { get; init; }

    /// <summary><c>tokenize_chinese_chars</c>: CJK ideographs become single-character words; default true.</summary>
    public bool TokenizeChineseChars { get; init; } = true;

    /// <summary><c>unk_token</c>; default <c>[UNK]</c>.</summary>
    public string UnknownToken { get; init; } = "[UNK]";

    /// <summary><c>cls_token</c>; default <c>[CLS]</c>.</summary>
    public string ClassificationToken { get; init; } = "[CLS]";

    /// <summary><c>sep_token</c>; default <c>[SEP]</c>.</summary>
    public string SeparatorToken { get; init; } = "[SEP]";

    /// <summary><c>pad_token</c>; default <c>[PAD]</c>.</summary>
    public string PaddingToken { get; init; } = "[PAD]";

    /// <summary><c>mask_token</c>; default <c>[MASK]</c>.</summary>
    public string MaskingToken { get; init; } = "[MASK]";

    /// <summary>Reads the settings from a <c>tokenizer_config.json</c>; keys that are absent keep
    /// their defaults. A missing file gives the defaults.</summary>
    public static BertTokenizerSettings FromTokenizerConfig(string? path)
    {
        if (path is null || !File.Exists(path))
        {
            return new BertTokenizerSettings();
        }

        using FileStream stream = File.OpenRead(path);
        using JsonDocument doc = JsonDocument.Parse(stream);
        JsonElement root = doc.RootElement;
        var defaults = new BertTokenizerSettings();
        return new BertTokenizerSettings
        {
            LowerCase = ReadBool(root, "do_lower_case") ?? defaults.LowerCase,
            StripAccents = ReadBool(root, "strip_accents"),
            TokenizeChineseChars = ReadBool(root, "tokenize_chinese_chars") ?? defaults.TokenizeChineseChars,
            UnknownToken = ReadToken(root, "unk_token") ?? defaults.UnknownToken,
            ClassificationToken = ReadToken(root, "cls_token") ?? defaults.ClassificationToken,
            SeparatorToken = ReadToken(root, "sep_token") ?? defaults.SeparatorToken,
            PaddingToken = ReadToken(root, "pad_token") ?? defaults.PaddingToken,
            MaskingToken = ReadToken(root, "mask_token") ?? defaults.MaskingToken,
        };
    }

    private static bool? ReadBool(JsonElement root, string name) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : null;

    // Tokens are either a plain string or an AddedToken object {"content": "[CLS]", ...}.
    private static string? ReadToken(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String
                => c.GetString(),
            _ => null,
        };
    }
}
