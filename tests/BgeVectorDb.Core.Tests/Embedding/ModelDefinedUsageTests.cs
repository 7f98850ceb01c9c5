using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Tests.Inference;

namespace BgeVectorDb.Core.Tests.Embedding;

/// <summary>
/// Pooling, normalisation, prompts and max length come from the model folder (sentence-transformers files,
/// tokenizer_config.json), the BGE presets only for BGE ids. Vectors are checked against a plain C#
/// computation over one unpadded ONNX run (<see cref="ManualOrt.RawOutput"/>).
/// </summary>
public sealed class ModelDefinedUsageTests : IDisposable
{
    private static readonly OnnxSessionFactory Factory = new(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });

    private const string Medium = "Aspirin reduces the risk of heart attack in adults with known cardiovascular disease.";
    private static readonly string[] Mixed =
    [
        "Vitamin D.", Medium, string.Join(' ', Enumerable.Repeat("statins lower LDL cholesterol", 12)), "x", Medium + " More words here.",
    ];

    private readonly TempDirectory _root = new("bgevdb-usage", create: false);

    public void Dispose() => _root.Dispose();

    /// <summary>A copy of the tiny synthetic BERT bi-encoder with extra files written over it.</summary>
    private string Folder(string name, params (string Path, string Text)[] files)
    {
        var dir = Path.Combine(_root.Path, name);
        var source = TestModels.TinyBertEmbedder.Folder;
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(dir, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        foreach (var (path, text) in files)
        {
            var target = Path.Combine(dir, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllText(target, text);
        }
        return dir;
    }

    private static string Modules(bool normalize) =>
        """[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}"""
        + (normalize ? """,{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]""" : "]");

    private static string PoolingConfig(string mode) =>
        $$"""{"word_embedding_dimension":32,"pooling_mode_cls_token":{{(mode == "cls" ? "true" : "false")}},"pooling_mode_mean_tokens":{{(mode == "mean" ? "true" : "false")}},"pooling_mode_max_tokens":false,"pooling_mode_mean_sqrt_len_tokens":false,"pooling_mode_lasttoken":{{(mode == "last" ? "true" : "false")}}}""";

    /// <summary>The plain reference: token vectors of one unpadded run, pooled and normalised by hand in double.</summary>
    private static float[] Reference(BgeEmbedder embedder, string text, PoolingMode pooling, bool normalize)
    {
        var row = embedder.Tokenizer.Encode(text, embedder.MaxLength);
        var data = ManualOrt.RawOutput(embedder.Model.Session, row, out var shape);
        Assert.Equal([1, row.Length, 32], shape);
        int hidden = shape[2], tokens = shape[1];
        var pooled = new double[hidden];
        for (int h = 0; h < hidden; h++)
        {
            pooled[h] = pooling switch
            {
                PoolingMode.Cls => data[h],
                PoolingMode.LastToken => data[(tokens - 1) * hidden + h],
                _ => Enumerable.Range(0, tokens).Sum(t => (double)data[t * hidden + h]) / tokens,
            };
        }
        double norm = normalize ? Math.Sqrt(pooled.Sum(x => x * x)) : 1.0;
        return pooled.Select(x => (float)(x / norm)).ToArray();
    }

    [Theory]
    [InlineData("mean", PoolingMode.Mean, true)]
    [InlineData("cls", PoolingMode.Cls, true)]
    [InlineData("last", PoolingMode.LastToken, true)]
    [InlineData("mean", PoolingMode.Mean, false)]
    public async Task Pooling_FromModulesJson_EqualsThePlainReference_AloneAndInPaddedBatches(string mode, PoolingMode expected, bool normalize)
    {
        var folder = Folder($"st-{mode}-{normalize}", ("modules.json", Modules(normalize)), ("1_Pooling/config.json", PoolingConfig(mode)));
        using var embedder = BgeEmbedder.Load(folder, "sentence-transformers/all-MiniLM-L6-v2", Factory,
            new BgeEmbedderOptions { Batching = new() { MaxBatchRows = 8 } });
        Assert.Equal(expected, embedder.Profile.Pooling);
        Assert.Equal(normalize, embedder.Profile.Normalize);

        var vectors = await embedder.EmbedDocumentsAsync(Mixed); // one padded batch: rows of very different lengths
        for (int i = 0; i < Mixed.Length; i++)
        {
            ManualOrt.AssertClose(Reference(embedder, Mixed[i], expected, normalize), vectors[i], 2e-5);
        }
        var norm = ManualOrt.Norm(vectors[1]);
        if (normalize) Assert.InRange(norm, 1 - 1e-5, 1 + 1e-5);
        else Assert.True(Math.Abs(norm - 1) > 1e-3, $"unnormalised vector has norm {norm}");
    }

    [Fact]
    public async Task MeanPooling_DiffersFromCls_SoThePoolingIsReallyApplied()
    {
        using var cls = BgeEmbedder.Load(Folder("plain"), "BAAI/bge-small-en-v1.5", Factory);
        using var mean = BgeEmbedder.Load(Folder("mean", ("modules.json", Modules(true)), ("1_Pooling/config.json", PoolingConfig("mean"))),
            "BAAI/bge-small-en-v1.5", Factory);
        Assert.Equal(PoolingMode.Cls, cls.Profile.Pooling); // no sentence-transformers files: the BGE default
        Assert.True(cls.Profile.Normalize);
        var a = (await cls.EmbedDocumentsAsync([Medium]))[0];
        var b = (await mean.EmbedDocumentsAsync([Medium]))[0];
        ManualOrt.AssertClose(Reference(cls, Medium, PoolingMode.Cls, true), a, 2e-5);
        Assert.True(a.Zip(b, (x, y) => (double)x * y).Sum() < 0.999);
    }

    [Fact]
    public void PoolingOption_OverridesTheFolder_AndUnsupportedPoolingIsRefusedNamingTheFile()
    {
        var folder = Folder("override", ("modules.json", Modules(true)), ("1_Pooling/config.json", PoolingConfig("mean")));
        using var embedder = BgeEmbedder.Load(folder, "x/y", Factory, new BgeEmbedderOptions { Pooling = PoolingMode.Cls, Normalize = false });
        Assert.Equal(PoolingMode.Cls, embedder.Profile.Pooling);
        Assert.False(embedder.Profile.Normalize);

        var max = Folder("max", ("modules.json", Modules(true)),
            ("1_Pooling/config.json", """{"pooling_mode_cls_token":false,"pooling_mode_mean_tokens":false,"pooling_mode_max_tokens":true}"""));
        var e = Assert.Throws<InvalidDataException>(() => BgeEmbedder.Load(max, "x/y", Factory));
        Assert.Contains("pooling_mode_max_tokens is not supported", e.Message);
        Assert.Contains("1_Pooling", e.Message);
    }

    [Theory]
    [InlineData("BAAI/bge-small-en-v1.5", QueryInstructions.English)]
    [InlineData("BAAI/bge-large-en-v1.5", QueryInstructions.English)]
    [InlineData("BAAI/bge-base-zh-v1.5", QueryInstructions.Chinese)]
    [InlineData("bge-small-en-v1.5", QueryInstructions.English)]
    [InlineData("sentence-transformers/all-MiniLM-L6-v2", "")] // the bug: every non-zh id used to get the English BGE instruction
    [InlineData("Snowflake/snowflake-arctic-embed-xs", "")]     // without its config_sentence_transformers.json: no prompt
    [InlineData("intfloat/e5-small-v2", "")]
    [InlineData("my-own-model", "")]
    public void QueryPrompt_WithoutFolderPrompts_IsTheBgePresetForBgeIdsOnly(string id, string expected)
    {
        Assert.Equal(expected, QueryInstructions.ForModel(id));
        using var embedder = BgeEmbedder.Load(TestModels.TinyBertEmbedder.Folder, id, Factory);
        Assert.Equal(expected, embedder.DefaultQueryInstruction);
        Assert.Equal("", embedder.Profile.DocumentPrompt);
    }

    [Fact]
    public async Task Prompts_FromConfigSentenceTransformers_ApplyToQueriesAndDocuments()
    {
        var folder = Folder("prompts", ("config_sentence_transformers.json",
            """{"__version__":{"sentence_transformers":"3.0.1"},"prompts":{"query":"query: ","document":"passage: "},"default_prompt_name":null}"""));
        using var embedder = BgeEmbedder.Load(folder, "BAAI/bge-small-en-v1.5", Factory); // the folder wins over the id's preset
        Assert.Equal("query: ", embedder.DefaultQueryInstruction);
        Assert.Equal("passage: ", embedder.Profile.DocumentPrompt);

        using var plain = BgeEmbedder.Load(Folder("no-prompts"), "x/y", Factory);
        var document = (await embedder.EmbedDocumentsAsync([Medium]))[0];
        ManualOrt.AssertClose((await plain.EmbedDocumentsAsync(["passage: " + Medium]))[0], document, 1e-6);
        var query = await embedder.EmbedQueryAsync("aspirin", embedder.DefaultQueryInstruction);
        ManualOrt.AssertClose((await plain.EmbedDocumentsAsync(["query: aspirin"]))[0], query, 1e-6);

        var defaultOnly = Folder("default-prompt", ("config_sentence_transformers.json",
            """{"prompts":{"query":"Represent this sentence for searching relevant passages: ","s2s":"sim: "},"default_prompt_name":"s2s"}"""));
        using var arcticLike = BgeEmbedder.Load(defaultOnly, "Snowflake/snowflake-arctic-embed-xs", Factory);
        Assert.Equal(QueryInstructions.English, arcticLike.DefaultQueryInstruction);
        Assert.Equal("sim: ", arcticLike.Profile.DocumentPrompt); // default_prompt_name covers the side without its own prompt

        var emptyPrompts = Folder("empty-prompts", ("config_sentence_transformers.json", """{"prompts":{},"default_prompt_name":null}"""));
        using var bge = BgeEmbedder.Load(emptyPrompts, "BAAI/bge-small-zh-v1.5", Factory);
        Assert.Equal(QueryInstructions.Chinese, bge.DefaultQueryInstruction); // no prompts listed: the BGE preset

        using var configured = BgeEmbedder.Load(folder, "x/y", Factory, new BgeEmbedderOptions { QueryInstruction = "", DocumentInstruction = "" });
        Assert.Equal("", configured.DefaultQueryInstruction);
        Assert.Equal("", configured.Profile.DocumentPrompt);
    }

    [Fact]
    public async Task MaxLength_IsTheModelsOwn_CappedByPositions_AndByTheSettingWhenSet()
    {
        var folder = Folder("maxlen", ("tokenizer_config.json", """{"do_lower_case":true,"model_max_length":24}"""));
        using var own = BgeEmbedder.Load(folder, "x/y", Factory);
        Assert.Equal(24, own.MaxLength);
        using var larger = BgeEmbedder.Load(folder, "x/y", Factory, new BgeEmbedderOptions { MaxLength = 4096 });
        Assert.Equal(24, larger.MaxLength);
        using var smaller = BgeEmbedder.Load(folder, "x/y", Factory, new BgeEmbedderOptions { MaxLength = 10 });
        Assert.Equal(10, smaller.MaxLength);

        var longText = Mixed[2];
        Assert.True(own.Tokenizer.Encode(longText, 10_000).Length >= 24);
        var vector = (await own.EmbedDocumentsAsync([longText]))[0];
        var truncated = own.Tokenizer.Encode(longText, own.MaxLength);
        Assert.Equal(24, truncated.Length);
        ManualOrt.AssertClose(ManualOrt.ClsNormalized(own.Model.Session, truncated), vector, 2e-5);

        // A sentinel model_max_length (transformers' 1e30) is ignored: max_position_embeddings (512) decides.
        var sentinel = Folder("sentinel", ("tokenizer_config.json", """{"do_lower_case":true,"model_max_length":1000000000000000019884624838656}"""));
        using var positions = BgeEmbedder.Load(sentinel, "x/y", Factory);
        Assert.Equal(512, positions.MaxLength);
    }
}
