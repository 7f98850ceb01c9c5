using System.Buffers;
using System.Diagnostics;
using BgeVectorDb.Core.Primitives;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace BgeVectorDb.Core.Inference;

/// <summary>
/// One loaded transformer ONNX model (BERT / XLM-R export) and how to feed it, as read from the session's
/// metadata: inputs <c>input_ids</c>, <c>attention_mask</c> and optionally <c>token_type_ids</c> (int64 or
/// int32), and one float output (<c>last_hidden_state</c> [b,s,h] or <c>logits</c> [b,1] / [b]; else the
/// first output). <see cref="RunPooledEmbeddings"/> and <see cref="RunScores"/> are thread-safe.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    internal const string InputIdsName = "input_ids";
    internal const string AttentionMaskName = "attention_mask";
    internal const string TokenTypeIdsName = "token_type_ids";

    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly RunOptions _runOptions = new();
    private long _sessionRunTicks;

    /// <summary>Wraps an open session (owned from now on: disposed with this object).</summary>
    /// <exception cref="InvalidOperationException">The model lacks <c>input_ids</c>, has an input this class
    /// cannot fill, uses another integer type, or has no float output.</exception>
    public OnnxModel(InferenceSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        var inputs = session.InputMetadata;
        if (!inputs.TryGetValue(InputIdsName, out var idsMeta))
        {
            throw new InvalidOperationException(
                $"The ONNX model has no '{InputIdsName}' input (inputs: {string.Join(", ", inputs.Keys)}).");
        }

        InputElementType = idsMeta.ElementDataType;
        if (InputElementType is not (TensorElementType.Int64 or TensorElementType.Int32))
        {
            throw new InvalidOperationException($"Input '{InputIdsName}' has element type {InputElementType}; int64 or int32 expected.");
        }

        foreach (var (name, meta) in inputs)
        {
            if (name is not (InputIdsName or AttentionMaskName or TokenTypeIdsName))
            {
                throw new InvalidOperationException(
                    $"The ONNX model has an input '{name}' that is not one of {InputIdsName}, {AttentionMaskName}, {TokenTypeIdsName}.");
            }

            if (meta.ElementDataType != InputElementType)
            {
                throw new InvalidOperationException(
                    $"Input '{name}' has element type {meta.ElementDataType} but '{InputIdsName}' has {InputElementType}.");
            }
        }

        HasAttentionMask = inputs.ContainsKey(AttentionMaskName);
        HasTokenTypeIds = inputs.ContainsKey(TokenTypeIdsName);
        _inputNames = HasTokenTypeIds
            ? HasAttentionMask ? [InputIdsName, AttentionMaskName, TokenTypeIdsName] : [InputIdsName, TokenTypeIdsName]
            : HasAttentionMask ? [InputIdsName, AttentionMaskName] : [InputIdsName];

        var outputs = session.OutputMetadata;
        OutputName = outputs.ContainsKey("last_hidden_state") ? "last_hidden_state"
            : outputs.ContainsKey("logits") ? "logits"
            : session.OutputNames.Count > 0 ? session.OutputNames[0]
            : throw new InvalidOperationException("The ONNX model has no outputs.");
        var outputMeta = outputs[OutputName];
        if (outputMeta.ElementDataType != TensorElementType.Float)
        {
            throw new InvalidOperationException($"Output '{OutputName}' has element type {outputMeta.ElementDataType}; float expected.");
        }

        OutputRank = outputMeta.Dimensions.Length;
        OutputLastDimension = OutputRank > 0 && outputMeta.Dimensions[^1] > 0 ? outputMeta.Dimensions[^1] : null;
        _outputNames = [OutputName];
    }

    /// <summary>Opens <paramref name="onnxPath"/> through <paramref name="factory"/>.</summary>
    public static OnnxModel Load(string onnxPath, OnnxSessionFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        return new OnnxModel(factory.CreateSession(onnxPath));
    }

    /// <summary>Element type of the integer inputs (int64 or int32).</summary>
    public TensorElementType InputElementType { get; }

    /// <summary>Whether the model takes <c>attention_mask</c>.</summary>
    public bool HasAttentionMask { get; }

    /// <summary>Whether the model takes <c>token_type_ids</c> (BERT exports; XLM-R exports do not).</summary>
    public bool HasTokenTypeIds { get; }

    /// <summary>The output read: <c>last_hidden_state</c>, else <c>logits</c>, else the first output.</summary>
    public string OutputName { get; }

    /// <summary>Rank of that output as declared by the model (3 for hidden states, 2 or 1 for logits).</summary>
    public int OutputRank { get; }

    /// <summary>Static size of the output's last dimension (e.g. the hidden size), or null when symbolic.</summary>
    public int? OutputLastDimension { get; }

    /// <summary>The session (for diagnostics and tests).</summary>
    internal InferenceSession Session => _session;

    /// <summary>Total wall time spent inside <c>InferenceSession.Run</c> since load (benchmarks: the share of a
    /// request's time spent in ONNX Runtime).</summary>
    public TimeSpan SessionRunTime => TimeSpan.FromSeconds((double)Interlocked.Read(ref _sessionRunTicks) / Stopwatch.Frequency);

    /// <summary>
    /// Runs one padded batch and writes, per row, the L2-normalised first-token (CLS) vector of the output:
    /// <c>out[i, 0, :]</c> for a [b,s,h] output, <c>out[i, :]</c> for a [b,h] one.
    /// </summary>
    public void RunClsEmbeddings(ReadOnlySpan<EncodedInput> rows, int padId, Span<float[]> results) =>
        RunPooledEmbeddings(rows, padId, PoolingMode.Cls, normalize: true, results);

    /// <summary>
    /// Runs one padded batch and writes, per row, the pooled vector of a [b,s,h] output: the first token
    /// (<see cref="PoolingMode.Cls"/>), the mean over the row's real tokens (<see cref="PoolingMode.Mean"/>,
    /// padding excluded as by the attention mask) or its last real token (<see cref="PoolingMode.LastToken"/>);
    /// L2-normalised when <paramref name="normalize"/>. A [b,h] output is already pooled and taken as is.
    /// </summary>
    public void RunPooledEmbeddings(ReadOnlySpan<EncodedInput> rows, int padId, PoolingMode pooling, bool normalize, Span<float[]> results)
    {
        if (results.Length != rows.Length)
        {
            throw new ArgumentException("results must have one slot per row", nameof(results));
        }

        if (rows.IsEmpty)
        {
            return;
        }

        using var outputs = RunPadded(rows, padId, out int seqLen);
        var output = outputs[0];
        var shape = output.GetTensorTypeAndShape().Shape;
        var data = output.GetTensorDataAsSpan<float>();
        int hidden;
        int rowStride;
        bool perToken;
        if (shape.Length == 3 && shape[0] == rows.Length && shape[1] == seqLen)
        {
            hidden = checked((int)shape[2]);
            rowStride = seqLen * hidden;
            perToken = true;
        }
        else if (shape.Length == 2 && shape[0] == rows.Length)
        {
            hidden = checked((int)shape[1]);
            rowStride = hidden;
            perToken = false;
        }
        else
        {
            throw new InvalidOperationException(
                $"Output '{OutputName}' has shape [{string.Join(",", shape)}]; [batch,seq,hidden] or [batch,hidden] expected.");
        }

        for (int i = 0; i < rows.Length; i++)
        {
            var rowData = data.Slice(i * rowStride, rowStride);
            var vector = new float[hidden];
            if (!perToken || pooling == PoolingMode.Cls)
            {
                rowData[..hidden].CopyTo(vector);
            }
            else if (pooling == PoolingMode.LastToken)
            {
                rowData.Slice((rows[i].Length - 1) * hidden, hidden).CopyTo(vector);
            }
            else
            {
                int tokens = rows[i].Length;
                for (int t = 0; t < tokens; t++)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(vector, rowData.Slice(t * hidden, hidden), vector);
                }

                System.Numerics.Tensors.TensorPrimitives.Divide(vector, tokens, vector);
            }

            if (normalize)
            {
                VectorMath.NormalizeInto(vector, vector);
            }

            results[i] = vector;
        }
    }

    /// <summary>Runs one padded batch and writes one score per row from a [b,1] or [b] output.</summary>
    public void RunScores(ReadOnlySpan<EncodedInput> rows, int padId, Span<float> results)
    {
        if (results.Length != rows.Length)
        {
            throw new ArgumentException("results must have one slot per row", nameof(results));
        }

        if (rows.IsEmpty)
        {
            return;
        }

        using var outputs = RunPadded(rows, padId, out _);
        var output = outputs[0];
        var shape = output.GetTensorTypeAndShape().Shape;
        var data = output.GetTensorDataAsSpan<float>();
        bool ok = (shape.Length == 1 && shape[0] == rows.Length) ||
                  (shape.Length == 2 && shape[0] == rows.Length && shape[1] == 1);
        if (!ok)
        {
            throw new InvalidOperationException(
                $"Output '{OutputName}' has shape [{string.Join(",", shape)}]; [batch,1] or [batch] expected for a cross-encoder.");
        }

        data[..rows.Length].CopyTo(results);
    }

    /// <summary>Builds the padded input tensors over pooled buffers and runs the session.</summary>
    private IDisposableReadOnlyCollection<OrtValue> RunPadded(ReadOnlySpan<EncodedInput> rows, int padId, out int seqLen)
    {
        int batch = rows.Length;
        seqLen = 0;
        foreach (var row in rows)
        {
            seqLen = Math.Max(seqLen, row.Length);
        }

        if (seqLen == 0)
        {
            throw new ArgumentException("every row is empty; an encoded input has at least its special tokens", nameof(rows));
        }

        return InputElementType == TensorElementType.Int64
            ? RunPadded<long>(rows, padId, batch, seqLen)
            : RunPadded<int>(rows, padId, batch, seqLen);
    }

    private IDisposableReadOnlyCollection<OrtValue> RunPadded<T>(ReadOnlySpan<EncodedInput> rows, int padId, int batch, int seqLen)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        int count = checked(batch * seqLen);
        int inputCount = _inputNames.Length;
        var buffers = new T[inputCount][];
        var values = new OrtValue[inputCount];
        try
        {
            long[] shape = [batch, seqLen];
            int slot = 0;
            buffers[slot] = ArrayPool<T>.Shared.Rent(count);
            FillIds(rows, padId, seqLen, buffers[slot].AsSpan(0, count));
            if (HasAttentionMask)
            {
                buffers[++slot] = ArrayPool<T>.Shared.Rent(count);
                FillMask(rows, seqLen, buffers[slot].AsSpan(0, count));
            }

            if (HasTokenTypeIds)
            {
                buffers[++slot] = ArrayPool<T>.Shared.Rent(count);
                FillTypes(rows, seqLen, buffers[slot].AsSpan(0, count));
            }

            Debug.Assert(slot == inputCount - 1);
            for (int i = 0; i < inputCount; i++)
            {
                values[i] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers[i].AsMemory(0, count), shape);
            }

            long started = Stopwatch.GetTimestamp();
            var outputs = _session.Run(_runOptions, _inputNames, values, _outputNames);
            Interlocked.Add(ref _sessionRunTicks, Stopwatch.GetTimestamp() - started);
            return outputs;
        }
        finally
        {
            for (int i = 0; i < inputCount; i++)
            {
                values[i]?.Dispose();
                if (buffers[i] is { } buffer)
                {
                    ArrayPool<T>.Shared.Return(buffer);
                }
            }
        }
    }

    private static void FillIds<T>(ReadOnlySpan<EncodedInput> rows, int padId, int seqLen, Span<T> target)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        var pad = T.CreateTruncating(padId);
        for (int r = 0; r < rows.Length; r++)
        {
            var ids = rows[r].InputIds;
            var dst = target.Slice(r * seqLen, seqLen);
            for (int j = 0; j < ids.Length; j++)
            {
                dst[j] = T.CreateTruncating(ids[j]);
            }

            dst[ids.Length..].Fill(pad);
        }
    }

    private static void FillMask<T>(ReadOnlySpan<EncodedInput> rows, int seqLen, Span<T> target)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        for (int r = 0; r < rows.Length; r++)
        {
            var dst = target.Slice(r * seqLen, seqLen);
            int len = rows[r].Length;
            dst[..len].Fill(T.One);
            dst[len..].Clear();
        }
    }

    private static void FillTypes<T>(ReadOnlySpan<EncodedInput> rows, int seqLen, Span<T> target)
        where T : unmanaged, System.Numerics.INumber<T>
    {
        for (int r = 0; r < rows.Length; r++)
        {
            var dst = target.Slice(r * seqLen, seqLen);
            var types = rows[r].TokenTypeIds;
            if (types is null)
            {
                dst.Clear();
                continue;
            }

            if (types.Length != rows[r].Length)
            {
                throw new ArgumentException($"row {r}: {types.Length} token types for {rows[r].Length} ids");
            }

            for (int j = 0; j < types.Length; j++)
            {
                dst[j] = T.CreateTruncating(types[j]);
            }

            dst[types.Length..].Clear();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
