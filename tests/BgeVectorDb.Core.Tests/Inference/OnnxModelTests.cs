using BgeVectorDb.Core.Inference;
using BgeVectorDb.Synthetic;
using BgeVectorDb.Synthetic.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace BgeVectorDb.Core.Tests.Inference;

public sealed class OnnxModelTests
{
    private static readonly OnnxSessionFactory Factory = new(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu });

    private static readonly EncodedInput[] Rows =
    [
        new([101, 7592, 2088, 102], null),
        new([101, 2023, 2003, 1037, 2936, 6251, 102], [0, 0, 0, 0, 1, 1, 1]),
        new([101, 102], null),
    ];

    [Fact]
    public void Metadata_OfABertEmbedder_And_AnXlmRobertaCrossEncoder()
    {
        using var bert = OnnxModel.Load(TestModels.TinyBertEmbedder.OnnxPath, Factory);
        Assert.True(bert.HasAttentionMask);
        Assert.True(bert.HasTokenTypeIds);
        Assert.Equal(TensorElementType.Int64, bert.InputElementType);
        Assert.Equal("last_hidden_state", bert.OutputName);
        Assert.Equal(3, bert.OutputRank);
        Assert.Equal(32, bert.OutputLastDimension);

        using var xlmr = OnnxModel.Load(TestModels.TinyXlmrCross.OnnxPath, Factory);
        Assert.False(xlmr.HasTokenTypeIds);
        Assert.Equal("logits", xlmr.OutputName);
        Assert.Equal(2, xlmr.OutputRank);
    }

    [Fact]
    public void Int32Inputs_AreDetectedAndGiveTheSameResultsAsInt64()
    {
        // The same tiny BERT with its three inputs re-declared as int32 (Gather and Cast accept both).
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(TestModels.TinyBertEmbedder.OnnxPath));
        foreach (var input in proto.Graph.Input)
        {
            input.Type.TensorType.ElemType = (int)TensorElementType.Int32;
        }

        var path = Path.Combine(Path.GetTempPath(), $"bgevdb-int32-{Environment.ProcessId}-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        try
        {
            using var int32 = OnnxModel.Load(path, Factory);
            using var int64 = OnnxModel.Load(TestModels.TinyBertEmbedder.OnnxPath, Factory);
            Assert.Equal(TensorElementType.Int32, int32.InputElementType);

            var a = new float[Rows.Length][];
            var b = new float[Rows.Length][];
            int32.RunClsEmbeddings(Rows, 0, a);
            int64.RunClsEmbeddings(Rows, 0, b);
            for (int i = 0; i < Rows.Length; i++)
            {
                ManualOrt.AssertClose(b[i], a[i], 1e-6);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void PaddedBatchRows_EqualUnpaddedSingleRuns_WithTokenTypesZeroWhenAbsent()
    {
        using var model = OnnxModel.Load(TestModels.TinyBertEmbedder.OnnxPath, Factory);
        var batched = new float[Rows.Length][];
        model.RunClsEmbeddings(Rows, 0, batched);
        for (int i = 0; i < Rows.Length; i++)
        {
            ManualOrt.AssertClose(ManualOrt.ClsNormalized(model.Session, Rows[i]), batched[i], 1e-5);
        }

        // Token types matter to this model: the same ids with all-zero types give another vector.
        var zeroTypes = new float[1][];
        model.RunClsEmbeddings([Rows[1] with { TokenTypeIds = null }], 0, zeroTypes);
        Assert.True(Math.Abs(zeroTypes[0][0] - batched[1][0]) > 1e-4 || Math.Abs(zeroTypes[0][1] - batched[1][1]) > 1e-4);
    }

    [Fact]
    public void RunScores_FailsClearlyOnAnEmbedder_AndWorksOnACrossEncoder()
    {
        using var embedder = OnnxModel.Load(TestModels.TinyBertEmbedder.OnnxPath, Factory);
        var ex = Assert.Throws<InvalidOperationException>(() => embedder.RunScores(Rows, 0, new float[Rows.Length]));
        Assert.Contains("[batch,1] or [batch]", ex.Message);

        using var cross = OnnxModel.Load(TestModels.TinyBertCross.OnnxPath, Factory);
        var scores = new float[Rows.Length];
        cross.RunScores(Rows, 0, scores);
        Assert.All(scores, s => Assert.True(float.IsFinite(s)));
    }
}
