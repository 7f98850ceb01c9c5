using BgeVectorDb.Core.Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace BgeVectorDb.Core.Tests.Inference;

/// <summary>
/// An independent reference: one unpadded row through a plain InferenceSession with NamedOnnxValue /
/// DenseTensor inputs (not the engine's pooled OrtValue path), CLS and normalisation done by hand.
/// </summary>
internal static class ManualOrt
{
    public static float[] RawOutput(InferenceSession session, EncodedInput row, out int[] shape)
    {
        var dims = new[] { 1, row.Length };
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(row.InputIds.Select(i => (long)i).ToArray(), dims)),
        };
        if (session.InputMetadata.ContainsKey("attention_mask"))
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, row.Length).ToArray(), dims)));
        }

        if (session.InputMetadata.ContainsKey("token_type_ids"))
        {
            var types = row.TokenTypeIds?.Select(t => (long)t).ToArray() ?? new long[row.Length];
            inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(types, dims)));
        }

        using var results = session.Run(inputs);
        var tensor = results.First().AsTensor<float>();
        shape = tensor.Dimensions.ToArray();
        return tensor.ToArray();
    }

    /// <summary>last_hidden_state[0, 0, :] / its L2 norm, in double precision.</summary>
    public static float[] ClsNormalized(InferenceSession session, EncodedInput row)
    {
        var data = RawOutput(session, row, out var shape);
        Assert.Equal(3, shape.Length);
        int hidden = shape[2];
        double sum = 0;
        for (int i = 0; i < hidden; i++)
        {
            sum += (double)data[i] * data[i];
        }

        double norm = Math.Sqrt(sum);
        var result = new float[hidden];
        for (int i = 0; i < hidden; i++)
        {
            result[i] = (float)(data[i] / norm);
        }

        return result;
    }

    /// <summary>logits[0, 0] (or logits[0] for a rank-1 output).</summary>
    public static float Logit(InferenceSession session, EncodedInput row)
    {
        var data = RawOutput(session, row, out var shape);
        Assert.Equal(1, shape[0]);
        Assert.Single(data);
        return data[0];
    }

    public static void AssertClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, double tolerance)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"index {i}: expected {expected[i]}, actual {actual[i]} (tolerance {tolerance})");
        }
    }

    public static double Norm(IReadOnlyList<float> v) => Math.Sqrt(v.Sum(x => (double)x * x));
}
