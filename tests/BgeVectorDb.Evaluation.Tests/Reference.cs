using BgeVectorDb.Core.Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace BgeVectorDb.Evaluation.Tests;

/// <summary>
/// The reference the engine is checked against: one unpadded row through a plain InferenceSession
/// (NamedOnnxValue / DenseTensor inputs, not the engine's padded OrtValue batches), pooled and normalised
/// by hand in double precision.
/// </summary>
internal static class Reference
{
    /// <summary>"cls": last_hidden_state[0, 0, :]; "mean": the mean of last_hidden_state[0, t, :] over the
    /// tokens whose attention mask is 1 (all of them in an unpadded row); then divided by the L2 norm.</summary>
    public static float[] Pool(InferenceSession session, EncodedInput row, string pooling)
    {
        var n = row.Length;
        int[] dims = [1, n];
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(row.InputIds.Select(i => (long)i).ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, n).ToArray(), dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[n], dims)),
        };
        using var results = session.Run(inputs);
        var hiddenStates = results.Single(r => r.Name == "last_hidden_state").AsTensor<float>();
        Assert.Equal([1, n, 384], hiddenStates.Dimensions.ToArray());
        var hidden = hiddenStates.Dimensions[2];

        var pooled = new double[hidden];
        var tokens = pooling switch { "cls" => 1, "mean" => n, _ => throw new ArgumentException(pooling) };
        for (var t = 0; t < tokens; t++)
        {
            for (var h = 0; h < hidden; h++) pooled[h] += hiddenStates[0, t, h];
        }
        for (var h = 0; h < hidden; h++) pooled[h] /= tokens;
        var norm = Math.Sqrt(pooled.Sum(x => x * x));
        return pooled.Select(x => (float)(x / norm)).ToArray();
    }

    public static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"{what}, index {i}: expected {expected[i]}, actual {actual[i]} (tolerance {tolerance})");
        }
    }

    public static double Dot(float[] a, float[] b) => a.Zip(b).Sum(p => (double)p.First * p.Second);
}
