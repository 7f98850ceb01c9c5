using System.Text.Json;

namespace BgeVectorDb.Core.Inference.Tokenization;

/// <summary>
/// Builds the tokenizer of a Hugging Face model folder from its <c>config.json</c>
/// <c>model_type</c>: <c>"bert"</c> (vocab.txt + optional tokenizer_config.json) or
/// <c>"xlm-roberta"</c> (sentencepiece.bpe.model, else tokenizer.json).
/// </summary>
public static class ModelTokenizerFactory
{
    /// <summary>Max length used when neither the caller nor tokenizer_config.json gives one: 512 tokens.</summary>
    public const int DefaultMaxLength = 512;

    /// <summary>Creates the tokenizer for the model in <paramref name="folder"/>.</summary>
    /// <param name="folder">Model folder holding config.json and the tokenizer files.</param>
    /// <param name="maxLength">Cap on tokens per encoded row (special tokens included); null = the
    /// folder's tokenizer_config.json <c>model_max_length</c> when sensible, else 512.
    /// <see cref="IModelTokenizer.Encode"/> uses the smaller of this cap and its own argument.</param>
    /// <exception cref="FileNotFoundException">config.json or a required tokenizer file is missing.</exception>
    /// <exception cref="NotSupportedException">The model_type is neither "bert" nor "xlm-roberta".</exception>
    public static IModelTokenizer FromModelFolder(string folder, int? maxLength = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (maxLength is < 4)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "maxLength must be at least 4 tokens.");
        }

        string configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"Model folder '{folder}' has no config.json (needed for model_type).", configPath);
        }

        string modelType = ReadModelType(configPath);
        string tokenizerConfigPath = Path.Combine(folder, "tokenizer_config.json");
        int cap = maxLength ?? ReadModelMaxLength(tokenizerConfigPath) ?? DefaultMaxLength;

        switch (modelType)
        {
            case "bert":
            {
                string vocab = Path.Combine(folder, "vocab.txt");
                if (!File.Exists(vocab))
                {
                    throw new FileNotFoundException(
                        $"Model folder '{folder}' (model_type bert) has no vocab.txt.", vocab);
                }

                BertTokenizerSettings settings = BertTokenizerSettings.FromTokenizerConfig(tokenizerConfigPath);
                return new CappedTokenizer(BertModelTokenizer.FromVocabFile(vocab, settings), cap);
            }

            case "xlm-roberta":
            {
                string spm = Path.Combine(folder, "sentencepiece.bpe.model");
                if (File.Exists(spm))
                {
                    return new CappedTokenizer(XlmRobertaModelTokenizer.FromSentencePieceModel(spm), cap);
                }

                string json = Path.Combine(folder, "tokenizer.json");
                if (File.Exists(json))
                {
                    return new CappedTokenizer(XlmRobertaModelTokenizer.FromTokenizerJson(json), cap);
                }

                throw new FileNotFoundException(
                    $"Model folder '{folder}' (model_type xlm-roberta) has neither sentencepiece.bpe.model nor tokenizer.json.",
                    spm);
            }

            default:
                throw new NotSupportedException(
                    $"Model folder '{folder}': config.json model_type '{modelType}' is not supported (expected \"bert\" or \"xlm-roberta\").");
        }
    }

    private static string ReadModelType(string configPath)
    {
        using FileStream stream = File.OpenRead(configPath);
        using JsonDocument doc = JsonDocument.Parse(stream);
        if (doc.RootElement.ValueKind == JsonValueKind.Object
            && doc.RootElement.TryGetProperty("model_type", out JsonElement type)
            && type.ValueKind == JsonValueKind.String)
        {
            return type.GetString()!;
        }

        throw new InvalidDataException($"{configPath} has no string \"model_type\".");
    }

    // transformers writes a huge sentinel (1e30) when the model sets no limit: ignore those.
    internal static int? ReadModelMaxLength(string tokenizerConfigPath)
    {
        if (!File.Exists(tokenizerConfigPath))
        {
            return null;
        }

        using FileStream stream = File.OpenRead(tokenizerConfigPath);
        using JsonDocument doc = JsonDocument.Parse(stream);
        if (doc.RootElement.ValueKind == JsonValueKind.Object
            && doc.RootElement.TryGetProperty("model_max_length", out JsonElement value)
            && value.ValueKind == JsonValueKind.Number
            && value.TryGetDouble(out double max)
            && max is >= 4 and <= 1_000_000)
        {
            return (int)max;
        }

        return null;
    }
}
