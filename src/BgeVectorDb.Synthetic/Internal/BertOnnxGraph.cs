using BgeVectorDb.Synthetic.Onnx;
using static BgeVectorDb.Synthetic.Internal.OnnxGraphBuilder;
using DataType = BgeVectorDb.Synthetic.Onnx.TensorProto.Types.DataType;

namespace BgeVectorDb.Synthetic.Internal;

/// <summary>
/// Builds the ONNX graph of a BERT / XLM-R encoder (plus classification head for cross-encoders) the way
/// Hugging Face / optimum exports look from the outside: int64 inputs <c>input_ids</c>, <c>attention_mask</c>
/// (and <c>token_type_ids</c> for BERT) of shape [batch_size, sequence_length]; output
/// <c>last_hidden_state</c> or <c>logits</c>. Only standard ai.onnx ops of opset 17.
/// </summary>
internal static class BertOnnxGraph
{
    /// <summary>ONNX opset (17: first with LayerNormalization).</summary>
    public const int Opset = 17;

    /// <summary>IR version 8 (the one of opset 17, ONNX 1.12+).</summary>
    public const int IrVersion = 8;

    /// <summary>Additive attention bias of a padded key: (1 - mask) * this.</summary>
    public const float MaskedBias = -10000f;

    public const string Batch = "batch_size";
    public const string Sequence = "sequence_length";

    public static ModelProto Build(SyntheticWeights w)
    {
        var spec = w.Spec;
        var g = new OnnxGraphBuilder();
        g.Graph.Name = $"synthetic_{spec.ModelType}_{(spec.Kind == SyntheticModelKind.BiEncoder ? "bi" : "cross")}_encoder";
        var bert = spec.Family == SyntheticModelFamily.Bert;
        int h = spec.Hidden, heads = spec.Heads, dh = spec.HeadSize;

        g.Input("input_ids", DataType.Int64, Batch, Sequence);
        g.Input("attention_mask", DataType.Int64, Batch, Sequence);
        if (bert)
        {
            g.Input("token_type_ids", DataType.Int64, Batch, Sequence);
        }

        foreach (var t in w.Tensors)
        {
            g.Float(t.Name, t.Shape, t.Data);
        }

        var one = g.FloatConst("const.one", 1f);
        var half = g.FloatConst("const.half", 0.5f);
        var sqrt2 = g.FloatConst("const.sqrt2", MathF.Sqrt(2f));
        var maskBias = g.FloatConst("const.mask_bias", MaskedBias);
        var invSqrtDh = g.FloatConst("const.inv_sqrt_head", 1f / MathF.Sqrt(dh));
        var headsShape = g.Int64("const.shape_heads", [0, 0, heads, dh], 4);
        var mergeShape = g.Int64("const.shape_merge", [0, 0, h], 3);
        var p = w.Prefix;

        // Embeddings.
        const string e = "embeddings";
        var words = g.Node("Gather", e, [p + "embeddings.word_embeddings.weight", "input_ids"]);
        string positionIds;
        if (bert)
        {
            // 0..seq-1
            var seqLen = g.Node("Shape", e, ["input_ids"], null, Attr("start", 1L), Attr("end", 2L));
            var seqScalar = g.Node("Squeeze", e, [seqLen, g.Int64("const.axis0", [0], 1)]);
            positionIds = g.Node("Range", e, [g.Int64("const.zero_i64", [0]), seqScalar, g.Int64("const.one_i64", [1])]);
        }
        else
        {
            // RoBERTa: cumsum(mask) * mask + padding_idx, so the first real token gets padding_idx + 1.
            var cumsum = g.Node("CumSum", e, ["attention_mask", g.Int64("const.axis1", [1])]);
            var masked = g.Node("Mul", e, [cumsum, "attention_mask"]);
            positionIds = g.Node("Add", e, [masked, g.Int64("const.padding_idx", [spec.PadTokenId])]);
        }

        var positions = g.Node("Gather", e, [p + "embeddings.position_embeddings.weight", positionIds]);
        var types = bert
            ? g.Node("Gather", e, [p + "embeddings.token_type_embeddings.weight", "token_type_ids"])
            : p + "embeddings.token_type_embeddings.weight"; // [1, H] broadcasts over [B, S, H]
        var sum = g.Node("Add", e, [g.Node("Add", e, [words, positions]), types]);
        var x = LayerNorm(g, e, sum, p + "embeddings.LayerNorm", spec.LayerNormEps);

        // Extended attention mask [B, 1, 1, S]: 0 for real tokens, MaskedBias for padding.
        const string m = "mask";
        var maskF = g.Node("Cast", m, ["attention_mask"], null, Attr("to", (long)DataType.Float));
        var mask4 = g.Node("Unsqueeze", m, [maskF, g.Int64("const.axes12", [1, 2], 2)]);
        var bias = g.Node("Mul", m, [g.Node("Sub", m, [one, mask4]), maskBias]);

        for (var i = 0; i < spec.Layers; i++)
        {
            var s = $"layer{i}";
            var l = $"{p}encoder.layer.{i}.";
            var q = g.Node("Transpose", s, [g.Node("Reshape", s, [Dense(g, s, x, l + "attention.self.query"), headsShape])],
                null, Attr("perm", 0L, 2L, 1L, 3L));
            var kT = g.Node("Transpose", s, [g.Node("Reshape", s, [Dense(g, s, x, l + "attention.self.key"), headsShape])],
                null, Attr("perm", 0L, 2L, 3L, 1L));
            var v = g.Node("Transpose", s, [g.Node("Reshape", s, [Dense(g, s, x, l + "attention.self.value"), headsShape])],
                null, Attr("perm", 0L, 2L, 1L, 3L));
            var scores = g.Node("Add", s, [g.Node("Mul", s, [g.Node("MatMul", s, [q, kT]), invSqrtDh]), bias]);
            var probs = g.Node("Softmax", s, [scores], null, Attr("axis", -1L));
            var context = g.Node("Transpose", s, [g.Node("MatMul", s, [probs, v])], null, Attr("perm", 0L, 2L, 1L, 3L));
            var merged = g.Node("Reshape", s, [context, mergeShape]);
            var attnOut = Dense(g, s, merged, l + "attention.output.dense");
            x = LayerNorm(g, s, g.Node("Add", s, [attnOut, x]), l + "attention.output.LayerNorm", spec.LayerNormEps);

            var inter = Dense(g, s, x, l + "intermediate.dense");
            // GELU, erf form: 0.5 * u * (1 + erf(u / sqrt 2)).
            var erf = g.Node("Erf", s, [g.Node("Div", s, [inter, sqrt2])]);
            var gelu = g.Node("Mul", s, [g.Node("Mul", s, [inter, g.Node("Add", s, [erf, one])]), half]);
            var ffnOut = Dense(g, s, gelu, l + "output.dense");
            var last = spec.Kind == SyntheticModelKind.BiEncoder && i == spec.Layers - 1 ? "last_hidden_state" : null;
            x = LayerNorm(g, s, g.Node("Add", s, [ffnOut, x]), l + "output.LayerNorm", spec.LayerNormEps, last);
        }

        if (spec.Kind == SyntheticModelKind.BiEncoder)
        {
            g.Output("last_hidden_state", DataType.Float, Batch, Sequence, h);
        }
        else
        {
            const string c = "head";
            var cls = g.Node("Gather", c, [x, g.Int64("const.cls_index", [0])], null, Attr("axis", 1L)); // [B, H]
            var (dense, outProj) = bert ? ("bert.pooler.dense", "classifier") : ("classifier.dense", "classifier.out_proj");
            var pooled = g.Node("Tanh", c, [Dense(g, c, cls, dense)]);
            g.Node("Add", c, [g.Node("MatMul", c, [pooled, outProj + ".weight"]), outProj + ".bias"], "logits");
            g.Output("logits", DataType.Float, Batch, 1);
        }

        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "BgeVectorDb.Synthetic",
            ProducerVersion = "1",
            Graph = g.Graph,
            DocString = "Synthetic model with random weights: non-semantic, for testing only.",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "bgevectordb_synthetic_seed", Value = spec.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "bgevectordb_synthetic_preset", Value = spec.PresetName });
        return model;
    }

    private static string Dense(OnnxGraphBuilder g, string scope, string input, string param) =>
        g.Node("Add", scope, [g.Node("MatMul", scope, [input, param + ".weight"]), param + ".bias"]);

    private static string LayerNorm(OnnxGraphBuilder g, string scope, string input, string param, double eps, string? output = null) =>
        g.Node("LayerNormalization", scope, [input, param + ".weight", param + ".bias"], output,
            Attr("axis", -1L), Attr("epsilon", (float)eps));
}
