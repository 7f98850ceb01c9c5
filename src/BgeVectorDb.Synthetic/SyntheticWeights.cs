using BgeVectorDb.Synthetic.Internal;

namespace BgeVectorDb.Synthetic;

/// <summary>One named float parameter of a synthetic model, row-major.</summary>
/// <param name="Name">Hugging Face style parameter name (see <see cref="SyntheticWeights"/>).</param>
/// <param name="Shape">Dimensions; dense weights are stored [in, out] (ready for MatMul, the transpose of
/// PyTorch's nn.Linear layout).</param>
/// <param name="Data">Values, row-major, length = product of <paramref name="Shape"/>.</param>
public sealed record SyntheticTensor(string Name, int[] Shape, float[] Data);

/// <summary>
/// The seeded random parameters of a synthetic model: exactly the float initializers of its model.onnx.
/// Each tensor is drawn from its own stream (seed mixed with the tensor name), so values do not depend on
/// generation order. Dense weights and biases: normal-ish (sum of four uniforms) with std
/// <see cref="SyntheticModelSpec.InitStd"/>; LayerNorm gamma 1, beta 0.
/// <para>Names (P = <see cref="Prefix"/>): P<c>embeddings.word_embeddings.weight</c> [V,H],
/// P<c>embeddings.position_embeddings.weight</c> [maxPos,H], P<c>embeddings.token_type_embeddings.weight</c> [T,H],
/// P<c>embeddings.LayerNorm.weight|bias</c> [H]; per layer i, P<c>encoder.layer.{i}.</c> +
/// <c>attention.self.query|key|value.weight</c> [H,H] and <c>.bias</c> [H], <c>attention.output.dense.weight</c> [H,H],
/// <c>attention.output.dense.bias</c>, <c>attention.output.LayerNorm.weight|bias</c>, <c>intermediate.dense.weight</c>
/// [H,F], <c>intermediate.dense.bias</c> [F], <c>output.dense.weight</c> [F,H], <c>output.dense.bias</c>,
/// <c>output.LayerNorm.weight|bias</c>. Cross-encoder heads: BERT <c>bert.pooler.dense.weight</c> [H,H] / <c>.bias</c>,
/// <c>classifier.weight</c> [H,1] / <c>classifier.bias</c> [1]; XLM-R <c>classifier.dense.weight</c> [H,H] / <c>.bias</c>,
/// <c>classifier.out_proj.weight</c> [H,1] / <c>.bias</c> [1].</para>
/// </summary>
public sealed class SyntheticWeights
{
    private readonly Dictionary<string, SyntheticTensor> _byName;

    private SyntheticWeights(SyntheticModelSpec spec, string prefix, List<SyntheticTensor> tensors)
    {
        Spec = spec;
        Prefix = prefix;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The spec the weights were drawn for (with a concrete vocab size).</summary>
    public SyntheticModelSpec Spec { get; }

    /// <summary>Encoder parameter prefix: "" for bi-encoders, "bert." or "roberta." for cross-encoders
    /// (as in Hugging Face's *ForSequenceClassification models).</summary>
    public string Prefix { get; }

    /// <summary>All tensors in graph order.</summary>
    public IReadOnlyList<SyntheticTensor> Tensors { get; }

    /// <summary>Total number of float parameters.</summary>
    public long ParameterCount => Tensors.Sum(t => (long)t.Data.Length);

    /// <summary>The tensor called <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> if absent.</summary>
    public SyntheticTensor this[string name] =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"No synthetic tensor '{name}'.");

    /// <summary>Draws every parameter of <paramref name="spec"/>. <see cref="SyntheticModelSpec.VocabSize"/> must be
    /// concrete (&gt; 0); <see cref="SyntheticModelGenerator"/> resolves 0 from the tokenizer file first.</summary>
    public static SyntheticWeights Create(SyntheticModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (spec.VocabSize <= 0)
        {
            throw new ArgumentException("VocabSize must be resolved (> 0) before drawing weights.", nameof(spec));
        }

        var cross = spec.Kind == SyntheticModelKind.CrossEncoder;
        var prefix = !cross ? "" : spec.Family == SyntheticModelFamily.Bert ? "bert." : "roberta.";
        int h = spec.Hidden, f = spec.Ffn;
        var plan = new List<(string Name, int[] Shape, Fill Fill)>
        {
            (prefix + "embeddings.word_embeddings.weight", [spec.VocabSize, h], Fill.Random),
            (prefix + "embeddings.position_embeddings.weight", [spec.MaxPositions, h], Fill.Random),
            (prefix + "embeddings.token_type_embeddings.weight", [spec.TypeVocabSize, h], Fill.Random),
            (prefix + "embeddings.LayerNorm.weight", [h], Fill.Ones),
            (prefix + "embeddings.LayerNorm.bias", [h], Fill.Zeros),
        };
        for (var i = 0; i < spec.Layers; i++)
        {
            var l = $"{prefix}encoder.layer.{i}.";
            foreach (var qkv in (string[])["query", "key", "value"])
            {
                plan.Add((l + $"attention.self.{qkv}.weight", [h, h], Fill.Random));
                plan.Add((l + $"attention.self.{qkv}.bias", [h], Fill.Random));
            }

            plan.Add((l + "attention.output.dense.weight", [h, h], Fill.Random));
            plan.Add((l + "attention.output.dense.bias", [h], Fill.Random));
            plan.Add((l + "attention.output.LayerNorm.weight", [h], Fill.Ones));
            plan.Add((l + "attention.output.LayerNorm.bias", [h], Fill.Zeros));
            plan.Add((l + "intermediate.dense.weight", [h, f], Fill.Random));
            plan.Add((l + "intermediate.dense.bias", [f], Fill.Random));
            plan.Add((l + "output.dense.weight", [f, h], Fill.Random));
            plan.Add((l + "output.dense.bias", [h], Fill.Random));
            plan.Add((l + "output.LayerNorm.weight", [h], Fill.Ones));
            plan.Add((l + "output.LayerNorm.bias", [h], Fill.Zeros));
        }

        if (cross)
        {
            var (dense, outProj) = spec.Family == SyntheticModelFamily.Bert
                ? ("bert.pooler.dense", "classifier")
                : ("classifier.dense", "classifier.out_proj");
            plan.Add((dense + ".weight", [h, h], Fill.Random));
            plan.Add((dense + ".bias", [h], Fill.Random));
            plan.Add((outProj + ".weight", [h, 1], Fill.Random));
            plan.Add((outProj + ".bias", [1], Fill.Random));
        }

        var tensors = new SyntheticTensor[plan.Count];
        Parallel.For(0, plan.Count, k =>
        {
            var (name, shape, fill) = plan[k];
            var data = new float[shape.Aggregate(1L, (a, d) => a * d)];
            switch (fill)
            {
                case Fill.Ones:
                    Array.Fill(data, 1f);
                    break;
                case Fill.Random:
                    SeededNormal.Fill(data, spec.Seed, name, spec.InitStd);
                    break;
            }

            tensors[k] = new SyntheticTensor(name, shape, data);
        });
        return new SyntheticWeights(spec, prefix, [.. tensors]);
    }

    private enum Fill
    {
        Zeros,
        Ones,
        Random,
    }
}
