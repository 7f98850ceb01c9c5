using BgeVectorDb.Synthetic;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace BgeVectorDb.Core.Tests.Synthetic;

/// <summary>ONNX Runtime running the generated tiny models agrees with a plain-loop reference forward pass.</summary>
public sealed class SyntheticOnnxForwardTests
{
    private const double Tolerance = 1e-4;

    // Two rows of different length; row 1 is padded (pad id 0 for BERT, 1 for XLM-R).
    private static readonly long[][] BertIds = [[101, 7592, 2088, 2003, 1037, 3231, 102], [101, 2460, 3793, 102, 0, 0, 0]];
    private static readonly long[][] XlmrIds = [[0, 35, 87, 1200, 9, 444, 2], [0, 500, 77, 2, 1, 1, 1]];
    private static readonly long[][] Mask = [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0]];
    private static readonly long[][] Types = [[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0]];

    [Fact]
    public void Bert_bi_encoder_last_hidden_state_matches_reference_on_unpadded_positions()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        var spec = SyntheticModelGenerator.ResolveVocab(SyntheticModelSpec.Preset("tiny"), SharedData.BertVocab);
        var folder = SyntheticModelGenerator.Write(spec, tmp.Path, SharedData.BertVocab);
        var weights = SyntheticWeights.Create(spec);

        var (output, dims) = Run(folder, "last_hidden_state", BertIds, Mask, Types);
        var expected = ReferenceEncoder.LastHiddenState(weights, BertIds, Mask, Types);

        Assert.Equal([2, 7, spec.Hidden], dims);
        var compared = 0;
        for (var b = 0; b < 2; b++)
        {
            for (var t = 0; t < 7; t++)
            {
                if (Mask[b][t] == 0)
                {
                    continue;
                }

                for (var k = 0; k < spec.Hidden; k++)
                {
                    Assert.Equal(expected[b][t][k], output[(((b * 7) + t) * spec.Hidden) + k], Tolerance);
                    compared++;
                }
            }
        }

        Assert.Equal(11 * spec.Hidden, compared);
        // Not collapsed: the CLS vectors of the two rows differ clearly.
        var diff = Enumerable.Range(0, spec.Hidden).Max(k => Math.Abs(output[k] - output[(7 * spec.Hidden) + k]));
        Assert.True(diff > 0.1, $"CLS vectors of different inputs differ by only {diff}");
    }

    [Fact]
    public void Bert_bi_encoder_padding_does_not_change_real_positions()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        var folder = SyntheticModelGenerator.Write(SyntheticModelSpec.Preset("tiny"), tmp.Path, SharedData.BertVocab);
        var (padded, _) = Run(folder, "last_hidden_state", BertIds, Mask, Types);
        long[][] ids = [BertIds[1][..4]];
        var (alone, dims) = Run(folder, "last_hidden_state", ids, [Mask[1][..4]], [Types[1][..4]]);

        var hidden = dims[2];
        for (var i = 0; i < 4 * hidden; i++)
        {
            Assert.Equal(alone[i], padded[(7 * hidden) + i], 1e-5);
        }
    }

    [Fact]
    public void Bert_cross_encoder_logits_match_reference_and_differ_across_pairs()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        var spec = SyntheticModelGenerator.ResolveVocab(
            SyntheticModelSpec.Preset("tiny", kind: SyntheticModelKind.CrossEncoder), SharedData.BertVocab);
        var folder = SyntheticModelGenerator.Write(spec, tmp.Path, SharedData.BertVocab);

        var (logits, dims) = Run(folder, "logits", BertIds, Mask, Types);
        var expected = ReferenceEncoder.Logits(SyntheticWeights.Create(spec), BertIds, Mask, Types);

        Assert.Equal([2, 1], dims);
        Assert.Equal(expected[0], logits[0], Tolerance);
        Assert.Equal(expected[1], logits[1], Tolerance);
        Assert.True(Math.Abs(logits[0] - logits[1]) > 1e-3, $"logits {logits[0]} and {logits[1]} barely differ");
    }

    [Fact]
    public void Xlmr_cross_encoder_logits_match_reference_with_roberta_positions()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        // Any file stands in for the SentencePiece model here: the vocab size is given explicitly.
        var tokenizerFile = Path.Combine(tmp.Path, "sentencepiece.bpe.model");
        File.WriteAllBytes(tokenizerFile, [1, 2, 3]);
        var spec = SyntheticModelSpec.Preset("tiny", SyntheticModelFamily.XlmRoberta, SyntheticModelKind.CrossEncoder, vocabSize: 2000);
        var folder = SyntheticModelGenerator.Write(spec, Path.Combine(tmp.Path, "model"), tokenizerFile);

        var (logits, dims) = Run(folder, "logits", XlmrIds, Mask, null);
        var expected = ReferenceEncoder.Logits(SyntheticWeights.Create(spec), XlmrIds, Mask, null);

        Assert.Equal([2, 1], dims);
        Assert.Equal(expected[0], logits[0], Tolerance);
        Assert.Equal(expected[1], logits[1], Tolerance);
        Assert.True(Math.Abs(logits[0] - logits[1]) > 1e-3, $"logits {logits[0]} and {logits[1]} barely differ");
    }

    [Fact]
    public void Xlmr_bi_encoder_has_no_token_type_input_and_matches_reference()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        var tokenizerFile = Path.Combine(tmp.Path, "sentencepiece.bpe.model");
        File.WriteAllBytes(tokenizerFile, [1, 2, 3]);
        var spec = SyntheticModelSpec.Preset("tiny", SyntheticModelFamily.XlmRoberta, vocabSize: 2000);
        var folder = SyntheticModelGenerator.Write(spec, Path.Combine(tmp.Path, "model"), tokenizerFile);

        using (var session = new InferenceSession(Path.Combine(folder, SyntheticModelGenerator.OnnxRelativePath)))
        {
            Assert.Equal(["input_ids", "attention_mask"], session.InputMetadata.Keys.ToArray());
        }

        var (output, _) = Run(folder, "last_hidden_state", XlmrIds, Mask, null);
        var expected = ReferenceEncoder.LastHiddenState(SyntheticWeights.Create(spec), XlmrIds, Mask, null);
        for (var t = 0; t < 4; t++)
        {
            for (var k = 0; k < spec.Hidden; k++)
            {
                Assert.Equal(expected[1][t][k], output[(((1 * 7) + t) * spec.Hidden) + k], Tolerance);
                Assert.Equal(expected[0][t][k], output[(t * spec.Hidden) + k], Tolerance);
            }
        }
    }

    /// <summary>Runs the folder's model on rows of equal (padded) length; returns the flat output and its shape.</summary>
    internal static (float[] Values, int[] Dims) Run(string folder, string outputName, long[][] ids, long[][] mask, long[][]? types)
    {
        using var session = new InferenceSession(Path.Combine(folder, SyntheticModelGenerator.OnnxRelativePath));
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", ToTensor(ids)),
            NamedOnnxValue.CreateFromTensor("attention_mask", ToTensor(mask)),
        };
        if (types is not null)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor("token_type_ids", ToTensor(types)));
        }

        using var results = session.Run(inputs, [outputName]);
        var tensor = results[0].AsTensor<float>();
        return (tensor.ToArray(), tensor.Dimensions.ToArray());
    }

    private static DenseTensor<long> ToTensor(long[][] rows)
    {
        var tensor = new DenseTensor<long>([rows.Length, rows[0].Length]);
        for (var b = 0; b < rows.Length; b++)
        {
            for (var t = 0; t < rows[b].Length; t++)
            {
                tensor[b, t] = rows[b][t];
            }
        }

        return tensor;
    }
}
