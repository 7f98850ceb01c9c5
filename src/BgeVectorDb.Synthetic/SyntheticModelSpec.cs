namespace BgeVectorDb.Synthetic;

/// <summary>Architecture family of a synthetic model; decides embeddings, positions and inputs.</summary>
public enum SyntheticModelFamily
{
    /// <summary>BERT: positions 0..n-1, <c>token_type_ids</c> input, LayerNorm eps 1e-12.</summary>
    Bert,

    /// <summary>XLM-RoBERTa: RoBERTa positions (padding_idx 1 + cumulative mask), no
    /// <c>token_type_ids</c> input, one token-type row, LayerNorm eps 1e-5.</summary>
    XlmRoberta,
}

/// <summary>What the model outputs.</summary>
public enum SyntheticModelKind
{
    /// <summary>Encoder only: output <c>last_hidden_state</c> float [batch_size, sequence_length, hidden].</summary>
    BiEncoder,

    /// <summary>Encoder plus sequence-classification head: output <c>logits</c> float [batch_size, 1].</summary>
    CrossEncoder,
}

/// <summary>
/// Shape and seed of a synthetic BERT/XLM-R model. The weights are random (seeded) and carry no meaning;
/// such models exist to exercise the inference stack with the real graph shape and cost.
/// </summary>
/// <param name="Family">Architecture family.</param>
/// <param name="Kind">Bi-encoder (hidden states) or cross-encoder (one logit per row).</param>
/// <param name="Layers">Number of transformer layers (num_hidden_layers).</param>
/// <param name="Hidden">Hidden size; must be divisible by <paramref name="Heads"/>.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="Ffn">Feed-forward inner size (intermediate_size).</param>
/// <param name="VocabSize">Rows of the word-embedding table; 0 = derive from the tokenizer file when writing
/// (vocab.txt line count for BERT, SentencePiece pieces + 2 for XLM-R's fairseq ids and &lt;mask&gt;).</param>
/// <param name="MaxPositions">Rows of the position table (max_position_embeddings): 512 for BERT, 514 for XLM-R
/// (RoBERTa positions start at padding_idx + 1 = 2).</param>
/// <param name="TypeVocabSize">Token-type rows: 2 for BERT, 1 for XLM-R.</param>
/// <param name="Seed">Seed of every weight; same spec and seed give a byte-identical model.onnx.</param>
/// <param name="LayerNormEps">LayerNorm epsilon: 1e-12 for BERT, 1e-5 for XLM-R.</param>
/// <param name="InitStd">Standard deviation of the random weights (default 0.02 like BERT init; the tiny preset
/// uses a larger one so that its outputs vary strongly with the input).</param>
/// <param name="PresetName">Name of the preset the spec came from, or "custom"; recorded in config.json.</param>
public sealed record SyntheticModelSpec(
    SyntheticModelFamily Family,
    SyntheticModelKind Kind,
    int Layers,
    int Hidden,
    int Heads,
    int Ffn,
    int VocabSize,
    int MaxPositions,
    int TypeVocabSize,
    int Seed,
    double LayerNormEps,
    float InitStd = 0.02f,
    string PresetName = "custom")
{
    /// <summary>Preset names accepted by <see cref="Preset"/>.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["tiny", "bge-small", "minilm-l6-cross", "reranker-base-xlmr"];

    /// <summary>Default seed of the presets.</summary>
    public const int DefaultSeed = 42;

    /// <summary>Head size (hidden / heads).</summary>
    public int HeadSize => Hidden / Heads;

    /// <summary>Padding token id and, for XLM-R, the RoBERTa padding_idx of the position table: 0 for BERT, 1 for XLM-R.</summary>
    public int PadTokenId => Family == SyntheticModelFamily.Bert ? 0 : 1;

    /// <summary>config.json model_type: "bert" or "xlm-roberta".</summary>
    public string ModelType => Family == SyntheticModelFamily.Bert ? "bert" : "xlm-roberta";

    /// <summary>
    /// A named preset:
    /// <list type="bullet">
    /// <item><c>tiny</c>: 2 layers, hidden 32, 4 heads, FFN 64, vocab from the tokenizer file, 512 positions
    /// (514 for XLM-R); family and kind as given (default BERT bi-encoder); InitStd 0.2.</item>
    /// <item><c>bge-small</c>: bge-small-en-v1.5 shape: BERT bi-encoder, 12 layers, hidden 384, 12 heads,
    /// FFN 1536, vocab 30522, 512 positions.</item>
    /// <item><c>minilm-l6-cross</c>: ms-marco-MiniLM-L-6 shape: BERT cross-encoder, 6 layers, hidden 384,
    /// 12 heads, FFN 1536, vocab 30522, 512 positions.</item>
    /// <item><c>reranker-base-xlmr</c>: bge-reranker-base's encoder shape: XLM-R cross-encoder, 12 layers,
    /// hidden 768, 12 heads, FFN 3072, 514 positions, vocab from the tokenizer file (vocab size does not
    /// change the compute).</item>
    /// </list>
    /// <paramref name="family"/> and <paramref name="kind"/> override only the <c>tiny</c> preset; the other
    /// presets are fixed shapes and throw when given a different family or kind.
    /// </summary>
    /// <param name="name">One of <see cref="PresetNames"/>.</param>
    /// <param name="family">Tiny only: family (default BERT).</param>
    /// <param name="kind">Tiny only: kind (default bi-encoder).</param>
    /// <param name="seed">Weight seed (default <see cref="DefaultSeed"/>).</param>
    /// <param name="vocabSize">Vocab override; 0 keeps the preset's (tiny and XLM-R: from the tokenizer file).</param>
    public static SyntheticModelSpec Preset(
        string name,
        SyntheticModelFamily? family = null,
        SyntheticModelKind? kind = null,
        int seed = DefaultSeed,
        int vocabSize = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        SyntheticModelSpec spec = name switch
        {
            "tiny" => Tiny(family ?? SyntheticModelFamily.Bert, kind ?? SyntheticModelKind.BiEncoder, seed),
            "bge-small" => Fixed(Bert(SyntheticModelKind.BiEncoder, 12, 384, 12, 1536, 30522, seed), family, kind),
            "minilm-l6-cross" => Fixed(Bert(SyntheticModelKind.CrossEncoder, 6, 384, 12, 1536, 30522, seed), family, kind),
            "reranker-base-xlmr" => Fixed(XlmR(SyntheticModelKind.CrossEncoder, 12, 768, 12, 3072, 0, seed), family, kind),
            _ => throw new ArgumentException(
                $"Unknown synthetic model preset '{name}'. Known: {string.Join(", ", PresetNames)}.", nameof(name)),
        };
        spec = spec with { PresetName = name };
        return vocabSize > 0 ? spec with { VocabSize = vocabSize } : spec;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when the shape is inconsistent.</summary>
    public void Validate()
    {
        Check(Layers >= 1, "Layers must be >= 1.");
        Check(Hidden >= 1 && Heads >= 1 && Hidden % Heads == 0, "Hidden must be a positive multiple of Heads.");
        Check(Ffn >= 1, "Ffn must be >= 1.");
        Check(VocabSize >= 0, "VocabSize must be >= 0 (0 = from the tokenizer file).");
        Check(TypeVocabSize >= 1, "TypeVocabSize must be >= 1.");
        Check(MaxPositions >= (Family == SyntheticModelFamily.XlmRoberta ? 3 : 1), "MaxPositions is too small.");
        Check(LayerNormEps > 0, "LayerNormEps must be > 0.");
        Check(InitStd > 0 && float.IsFinite(InitStd), "InitStd must be a positive finite number.");
    }

    private static void Check(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message);
        }
    }

    private static SyntheticModelSpec Tiny(SyntheticModelFamily family, SyntheticModelKind kind, int seed) =>
        family == SyntheticModelFamily.Bert
            ? Bert(kind, 2, 32, 4, 64, 0, seed) with { InitStd = 0.2f }
            : XlmR(kind, 2, 32, 4, 64, 0, seed) with { InitStd = 0.2f };

    private static SyntheticModelSpec Bert(SyntheticModelKind kind, int layers, int hidden, int heads, int ffn, int vocab, int seed) =>
        new(SyntheticModelFamily.Bert, kind, layers, hidden, heads, ffn, vocab, 512, 2, seed, 1e-12);

    private static SyntheticModelSpec XlmR(SyntheticModelKind kind, int layers, int hidden, int heads, int ffn, int vocab, int seed) =>
        new(SyntheticModelFamily.XlmRoberta, kind, layers, hidden, heads, ffn, vocab, 514, 1, seed, 1e-5);

    private static SyntheticModelSpec Fixed(SyntheticModelSpec spec, SyntheticModelFamily? family, SyntheticModelKind? kind)
    {
        if ((family is { } f && f != spec.Family) || (kind is { } k && k != spec.Kind))
        {
            throw new ArgumentException("Only the 'tiny' preset takes a family or kind; the others have a fixed shape.");
        }

        return spec;
    }
}
