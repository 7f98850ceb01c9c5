using BgeVectorDb.Synthetic;

namespace BgeVectorDb.Core.Tests.Synthetic;

/// <summary>
/// Plain loops (double precision, no ONNX Runtime) computing what a BERT / XLM-R encoder computes, from
/// the generator's own weight arrays. The ground truth the synthetic ONNX graphs are checked against.
/// </summary>
internal static class ReferenceEncoder
{
    /// <summary>Hidden states [row][position][hidden] for each row (rows padded to one length).</summary>
    public static double[][][] LastHiddenState(SyntheticWeights w, long[][] ids, long[][] mask, long[][]? types)
    {
        var spec = w.Spec;
        var p = w.Prefix;
        var result = new double[ids.Length][][];
        for (var b = 0; b < ids.Length; b++)
        {
            var n = ids[b].Length;
            var x = new double[n][];
            long cumsum = 0;
            for (var t = 0; t < n; t++)
            {
                long pos;
                if (spec.Family == SyntheticModelFamily.Bert)
                {
                    pos = t;
                }
                else
                {
                    cumsum += mask[b][t];
                    pos = (cumsum * mask[b][t]) + spec.PadTokenId;
                }

                var type = types?[b][t] ?? 0;
                var row = new double[spec.Hidden];
                for (var k = 0; k < spec.Hidden; k++)
                {
                    row[k] = At(w[p + "embeddings.word_embeddings.weight"], ids[b][t], k)
                        + At(w[p + "embeddings.position_embeddings.weight"], pos, k)
                        + At(w[p + "embeddings.token_type_embeddings.weight"], type, k);
                }

                x[t] = LayerNorm(row, w, p + "embeddings.LayerNorm");
            }

            for (var i = 0; i < spec.Layers; i++)
            {
                x = Layer(w, $"{p}encoder.layer.{i}.", x, mask[b]);
            }

            result[b] = x;
        }

        return result;
    }

    /// <summary>Cross-encoder logit per row: BERT pooler + classifier, or XLM-R classification head.</summary>
    public static double[] Logits(SyntheticWeights w, long[][] ids, long[][] mask, long[][]? types)
    {
        var hidden = LastHiddenState(w, ids, mask, types);
        var bert = w.Spec.Family == SyntheticModelFamily.Bert;
        var (dense, outProj) = bert ? ("bert.pooler.dense", "classifier") : ("classifier.dense", "classifier.out_proj");
        var logits = new double[ids.Length];
        for (var b = 0; b < ids.Length; b++)
        {
            var pooled = Dense(hidden[b][0], w, dense).Select(Math.Tanh).ToArray();
            logits[b] = Dense(pooled, w, outProj)[0];
        }

        return logits;
    }

    private static double[][] Layer(SyntheticWeights w, string l, double[][] x, long[] mask)
    {
        var spec = w.Spec;
        int n = x.Length, heads = spec.Heads, dh = spec.HeadSize;
        var q = x.Select(r => Dense(r, w, l + "attention.self.query")).ToArray();
        var k = x.Select(r => Dense(r, w, l + "attention.self.key")).ToArray();
        var v = x.Select(r => Dense(r, w, l + "attention.self.value")).ToArray();
        var context = new double[n][];
        for (var t = 0; t < n; t++)
        {
            context[t] = new double[spec.Hidden];
            for (var hd = 0; hd < heads; hd++)
            {
                var scores = new double[n];
                for (var s = 0; s < n; s++)
                {
                    double dot = 0;
                    for (var d = 0; d < dh; d++)
                    {
                        dot += q[t][(hd * dh) + d] * k[s][(hd * dh) + d];
                    }

                    scores[s] = (dot / Math.Sqrt(dh)) + ((1 - mask[s]) * -10000.0);
                }

                var max = scores.Max();
                var exp = scores.Select(sc => Math.Exp(sc - max)).ToArray();
                var total = exp.Sum();
                for (var s = 0; s < n; s++)
                {
                    for (var d = 0; d < dh; d++)
                    {
                        context[t][(hd * dh) + d] += exp[s] / total * v[s][(hd * dh) + d];
                    }
                }
            }
        }

        var attn = new double[n][];
        for (var t = 0; t < n; t++)
        {
            attn[t] = LayerNorm(Add(Dense(context[t], w, l + "attention.output.dense"), x[t]), w, l + "attention.output.LayerNorm");
        }

        var output = new double[n][];
        for (var t = 0; t < n; t++)
        {
            var inter = Dense(attn[t], w, l + "intermediate.dense")
                .Select(u => 0.5 * u * (1 + Erf(u / Math.Sqrt(2)))).ToArray();
            output[t] = LayerNorm(Add(Dense(inter, w, l + "output.dense"), attn[t]), w, l + "output.LayerNorm");
        }

        return output;
    }

    private static double At(SyntheticTensor t, long row, int col) => t.Data[(row * t.Shape[1]) + col];

    /// <summary>y = x W + b with W stored [in, out].</summary>
    private static double[] Dense(double[] x, SyntheticWeights w, string name)
    {
        var weight = w[name + ".weight"];
        var bias = w[name + ".bias"];
        int inDim = weight.Shape[0], outDim = weight.Shape[1];
        var y = new double[outDim];
        for (var o = 0; o < outDim; o++)
        {
            double acc = bias.Data[o];
            for (var i = 0; i < inDim; i++)
            {
                acc += x[i] * weight.Data[(i * outDim) + o];
            }

            y[o] = acc;
        }

        return y;
    }

    private static double[] Add(double[] a, double[] b) => a.Zip(b, (u, v) => u + v).ToArray();

    private static double[] LayerNorm(double[] x, SyntheticWeights w, string name)
    {
        var gamma = w[name + ".weight"].Data;
        var beta = w[name + ".bias"].Data;
        var mean = x.Average();
        var variance = x.Select(u => (u - mean) * (u - mean)).Average();
        var inv = 1 / Math.Sqrt(variance + w.Spec.LayerNormEps);
        return x.Select((u, i) => ((u - mean) * inv * gamma[i]) + beta[i]).ToArray();
    }

    /// <summary>erf to ~1e-14: Maclaurin series below 2.5, continued fraction of erfc above.</summary>
    private static double Erf(double x)
    {
        var sign = Math.Sign(x);
        var a = Math.Abs(x);
        if (a < 2.5)
        {
            // Maclaurin series: erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)).
            double sum = 0, term = a;
            for (var n = 0; n < 60; n++)
            {
                sum += term / ((2 * n) + 1);
                term *= -a * a / (n + 1);
            }

            return sign * 2 / Math.Sqrt(Math.PI) * sum;
        }

        // erfc(x) = exp(-x^2)/(x sqrt(pi)) * continued fraction (Lentz), accurate for x >= 2.5.
        double f = a, c = a, d = 0;
        for (var n = 1; n < 200; n++)
        {
            var an = n / 2.0;
            d = a + (an * d);
            d = 1 / d;
            c = a + (an / c);
            var delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
            {
                break;
            }
        }

        var erfc = Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
        return sign * (1 - erfc);
    }
}
