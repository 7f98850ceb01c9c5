using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Batching;
using BgeVectorDb.Core.Inference.Tokenization;
using Microsoft.Extensions.Logging;

namespace BgeVectorDb.Core.Embedding;

/// <summary>
/// A bi-encoder over ONNX Runtime (BGE or any sentence-transformers BERT/XLM-R export): texts are tokenized
/// (truncated to <see cref="MaxLength"/>), run in dynamic batches shared by all callers, pooled as the model
/// folder says (<see cref="EmbeddingProfile"/>: CLS for BGE, mean, last token) and L2-normalised when it
/// says so. Thread-safe; dispose to stop its batcher and release the session.
/// </summary>
public sealed class BgeEmbedder : ITextEmbedder, IDisposable
{
    private readonly OnnxModel _model;
    private readonly IModelTokenizer _tokenizer;
    private readonly InferenceBatcher<float[]> _batcher;

    private BgeEmbedder(string modelId, OnnxModel model, IModelTokenizer tokenizer, int dimension, int maxLength,
        EmbeddingProfile profile, BgeEmbedderOptions options, ILogger? logger)
    {
        ModelId = modelId;
        _model = model;
        _tokenizer = tokenizer;
        Dimension = dimension;
        MaxLength = maxLength;
        Profile = profile with
        {
            Pooling = options.Pooling ?? profile.Pooling,
            Normalize = options.Normalize ?? profile.Normalize,
            QueryPrompt = options.QueryInstruction ?? profile.QueryPrompt,
            DocumentPrompt = options.DocumentInstruction ?? profile.DocumentPrompt,
        };
        DefaultQueryInstruction = Profile.QueryPrompt;
        int padId = tokenizer.PadId;
        var pooling = Profile.Pooling;
        var normalize = Profile.Normalize;
        _batcher = new InferenceBatcher<float[]>(
            (rows, results) => _model.RunPooledEmbeddings(rows, padId, pooling, normalize, results), options.Batching, modelId, logger);
        _batcher.EnableMetrics(modelId, "embed");
    }

    /// <summary>
    /// Loads a model folder: config.json, onnx/model.onnx (or model.onnx) and the tokenizer files
    /// (vocab.txt for BERT, sentencepiece.bpe.model or tokenizer.json for XLM-R; see ModelTokenizerFactory).
    /// </summary>
    /// <param name="modelFolder">Hugging Face style model folder.</param>
    /// <param name="modelId">Model id, e.g. "BAAI/bge-small-en-v1.5".</param>
    /// <param name="factory">Session factory (execution provider and threads).</param>
    /// <param name="options">Null = defaults.</param>
    /// <param name="logger">Optional logger for the batcher.</param>
    public static BgeEmbedder Load(string modelFolder, string modelId, OnnxSessionFactory factory,
        BgeEmbedderOptions? options = null, ILogger? logger = null)
    {
        options ??= new BgeEmbedderOptions();
        var config = ModelFolderConfig.Read(modelFolder);
        var tokenizer = ModelTokenizerFactory.FromModelFolder(modelFolder, config.EffectiveMaxLength(options.MaxLength));
        return Load(modelFolder, modelId, factory, tokenizer, options, logger);
    }

    /// <summary>
    /// Loads a model folder (config.json, onnx/model.onnx, tokenizer files) with the tokenizer given.
    /// </summary>
    /// <param name="modelFolder">Hugging Face style folder with config.json and onnx/model.onnx (or model.onnx).</param>
    /// <param name="modelId">Model id, e.g. "BAAI/bge-small-en-v1.5"; picks the query-instruction preset.</param>
    /// <param name="factory">Session factory (execution provider and threads).</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="options">Null = defaults (the model's max length, pooling and prompts; batching per <see cref="InferenceBatcherOptions"/>).</param>
    /// <param name="logger">Optional logger for the batcher.</param>
    public static BgeEmbedder Load(string modelFolder, string modelId, OnnxSessionFactory factory, IModelTokenizer tokenizer,
        BgeEmbedderOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelId);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(tokenizer);
        options ??= new BgeEmbedderOptions();
        var config = ModelFolderConfig.Read(modelFolder);
        int maxLength = config.EffectiveMaxLength(options.MaxLength);
        var model = OnnxModel.Load(config.OnnxPath, factory);
        try
        {
            int dimension = config.HiddenSize ?? model.OutputLastDimension
                ?? throw new InvalidDataException($"{modelFolder}: hidden size unknown (no hidden_size in config.json, symbolic output dimension)");
            if (model.OutputLastDimension is { } d && d != dimension)
            {
                throw new InvalidDataException($"{modelFolder}: config.json hidden_size {dimension} but the ONNX output's last dimension is {d}");
            }

            var profile = EmbeddingProfile.Read(modelFolder, modelId);
            return new BgeEmbedder(modelId, model, tokenizer, dimension, maxLength, profile, options, logger);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public string ModelId { get; }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <inheritdoc />
    public string DefaultQueryInstruction { get; }

    /// <inheritdoc />
    public string DocumentPrompt => Profile.DocumentPrompt;

    /// <summary>Pooling, normalisation and prompts in use (the model folder's, overridden by the options).</summary>
    public EmbeddingProfile Profile { get; }

    /// <summary>Tokens per text after truncation (special tokens included).</summary>
    public int MaxLength { get; }

    /// <summary>The tokenizer in use.</summary>
    public IModelTokenizer Tokenizer => _tokenizer;

    /// <summary>The ONNX model in use.</summary>
    public OnnxModel Model => _model;

    internal InferenceBatcher<float[]> Batcher => _batcher;

    /// <summary>Counters of this model's scheduler (batches, time inside the model run, rejections).</summary>
    public InferenceBatcherStatistics Statistics => _batcher.Statistics;

    /// <inheritdoc />
    public Task<float[][]> EmbedDocumentsAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var rows = new EncodedInput[texts.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            var text = texts[i] ?? throw new ArgumentException($"texts[{i}] is null", nameof(texts));
            rows[i] = _tokenizer.Encode(Profile.DocumentPrompt.Length == 0 ? text : Profile.DocumentPrompt + text, MaxLength);
        }

        return _batcher.SubmitAsync(rows, InferencePriority.Ingest, cancellationToken);
    }

    /// <inheritdoc />
    public Task<float[]> EmbedQueryAsync(string query, string instruction, CancellationToken cancellationToken = default) =>
        EmbedQueryAsync(query, instruction, InferencePriority.Query, cancellationToken);

    /// <inheritdoc />
    public async Task<float[]> EmbedQueryAsync(string query, string instruction, InferencePriority priority, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var row = _tokenizer.Encode(string.IsNullOrEmpty(instruction) ? query : instruction + query, MaxLength);
        var vectors = await _batcher.SubmitAsync([row], priority, cancellationToken).ConfigureAwait(false);
        return vectors[0];
    }

    /// <summary>Embeds already tokenized rows through the shared batcher.</summary>
    internal Task<float[][]> EmbedEncodedAsync(IReadOnlyList<EncodedInput> rows, CancellationToken cancellationToken = default) =>
        _batcher.SubmitAsync(rows, InferencePriority.Ingest, cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        _batcher.Dispose();
        _model.Dispose();
    }
}
