using BgeVectorDb.Core.Inference;
using BgeVectorDb.Core.Inference.Batching;
using BgeVectorDb.Core.Inference.Tokenization;
using Microsoft.Extensions.Logging;

namespace BgeVectorDb.Core.Reranking;

/// <summary>
/// A cross-encoder over ONNX Runtime: each (query, document) pair is encoded by the model's tokenizer
/// (BERT <c>[CLS] q [SEP] d [SEP]</c> with token types 0/1, XLM-R <c>&lt;s&gt; q &lt;/s&gt;&lt;/s&gt; d &lt;/s&gt;</c>
/// without), truncated to <see cref="MaxLength"/> (document first), scored in dynamic batches (any number of
/// documents, split automatically), one logit per pair, optionally passed through a sigmoid.
/// Thread-safe; dispose to stop its batcher and release the session.
/// </summary>
public sealed class CrossEncoderReranker : IReranker, IDisposable
{
    private readonly OnnxModel _model;
    private readonly IModelTokenizer _tokenizer;
    private readonly InferenceBatcher<float> _batcher;

    private CrossEncoderReranker(string modelId, OnnxModel model, IModelTokenizer tokenizer, int maxLength,
        CrossEncoderOptions options, ILogger? logger)
    {
        ModelId = modelId;
        _model = model;
        _tokenizer = tokenizer;
        MaxLength = maxLength;
        ApplySigmoid = options.ApplySigmoid;
        int padId = tokenizer.PadId;
        _batcher = new InferenceBatcher<float>(
            (rows, results) => _model.RunScores(rows, padId, results), options.Batching, modelId, logger);
        _batcher.EnableMetrics(modelId, "rerank");
    }

    /// <summary>
    /// Loads a model folder: config.json, onnx/model.onnx (or model.onnx) and the tokenizer files
    /// (vocab.txt for BERT, sentencepiece.bpe.model or tokenizer.json for XLM-R; see ModelTokenizerFactory).
    /// </summary>
    /// <param name="modelFolder">Hugging Face style model folder.</param>
    /// <param name="modelId">Model id, e.g. "BAAI/bge-reranker-base".</param>
    /// <param name="factory">Session factory (execution provider and threads).</param>
    /// <param name="options">Null = defaults.</param>
    /// <param name="logger">Optional logger for the batcher.</param>
    public static CrossEncoderReranker Load(string modelFolder, string modelId, OnnxSessionFactory factory,
        CrossEncoderOptions? options = null, ILogger? logger = null)
    {
        options ??= new CrossEncoderOptions();
        var config = ModelFolderConfig.Read(modelFolder);
        var tokenizer = ModelTokenizerFactory.FromModelFolder(modelFolder, config.EffectiveMaxLength(options.MaxLength));
        return Load(modelFolder, modelId, factory, tokenizer, options, logger);
    }

    /// <summary>Loads a cross-encoder model folder (config.json, onnx/model.onnx) with the tokenizer given.</summary>
    /// <param name="modelFolder">Hugging Face style folder with config.json and onnx/model.onnx (or model.onnx).</param>
    /// <param name="modelId">Model id, e.g. "BAAI/bge-reranker-base".</param>
    /// <param name="factory">Session factory (execution provider and threads).</param>
    /// <param name="tokenizer">The model's tokenizer; its family decides the pair format.</param>
    /// <param name="options">Null = defaults (max length 512, raw logits, batching per <see cref="InferenceBatcherOptions"/>).</param>
    /// <param name="logger">Optional logger for the batcher.</param>
    public static CrossEncoderReranker Load(string modelFolder, string modelId, OnnxSessionFactory factory, IModelTokenizer tokenizer,
        CrossEncoderOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelId);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(tokenizer);
        options ??= new CrossEncoderOptions();
        var config = ModelFolderConfig.Read(modelFolder);
        int maxLength = config.EffectiveMaxLength(options.MaxLength);
        var model = OnnxModel.Load(config.OnnxPath, factory);
        try
        {
            if (model.OutputRank > 2)
            {
                throw new InvalidDataException(
                    $"{modelFolder}: output '{model.OutputName}' has rank {model.OutputRank}; a cross-encoder outputs logits [batch,1] or [batch]");
            }

            return new CrossEncoderReranker(modelId, model, tokenizer, maxLength, options, logger);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public string ModelId { get; }

    /// <summary>Tokens per pair after truncation (special tokens included).</summary>
    public int MaxLength { get; }

    /// <summary>Whether scores are sigmoid(logit) rather than raw logits.</summary>
    public bool ApplySigmoid { get; }

    /// <summary>The tokenizer in use.</summary>
    public IModelTokenizer Tokenizer => _tokenizer;

    /// <summary>The ONNX model in use.</summary>
    public OnnxModel Model => _model;

    internal InferenceBatcher<float> Batcher => _batcher;

    /// <summary>Counters of this model's scheduler (batches, time inside the model run, rejections).</summary>
    public InferenceBatcherStatistics Statistics => _batcher.Statistics;

    /// <inheritdoc />
    public Task<float[]> ScoreAsync(string query, IReadOnlyList<string> documents, CancellationToken cancellationToken = default) =>
        ScoreAsync(query, documents, InferencePriority.Rerank, cancellationToken);

    /// <inheritdoc />
    public async Task<float[]> ScoreAsync(string query, IReadOnlyList<string> documents, InferencePriority priority, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(documents);
        var rows = new EncodedInput[documents.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            var document = documents[i] ?? throw new ArgumentException($"documents[{i}] is null", nameof(documents));
            rows[i] = _tokenizer.EncodePair(query, document, MaxLength);
        }

        var scores = await _batcher.SubmitAsync(rows, priority, cancellationToken).ConfigureAwait(false);
        if (ApplySigmoid)
        {
            for (int i = 0; i < scores.Length; i++)
            {
                scores[i] = Sigmoid(scores[i]);
            }
        }

        return scores;
    }

    /// <summary>1 / (1 + e^-x), computed without overflow.</summary>
    internal static float Sigmoid(float x) =>
        x >= 0 ? 1f / (1f + MathF.Exp(-x)) : MathF.Exp(x) / (1f + MathF.Exp(x));

    /// <inheritdoc />
    public void Dispose()
    {
        _batcher.Dispose();
        _model.Dispose();
    }
}
