using System.Diagnostics;
using System.Text.Json;
using BgeVectorDb.Synthetic;
using BgeVectorDb.Synthetic.Onnx;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace BgeVectorDb.Core.Tests.Synthetic;

/// <summary>The generated folder's files, config values, determinism and preset shapes.</summary>
public sealed class SyntheticModelFolderTests(ITestOutputHelper output)
{
    [Fact]
    public void Same_seed_gives_byte_identical_model_and_different_seed_differs()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        var vocab = SharedData.BertVocab;
        var a = SyntheticModelGenerator.Write(SyntheticModelSpec.Preset("tiny", seed: 7), Path.Combine(tmp.Path, "a"), vocab);
        var b = SyntheticModelGenerator.Write(SyntheticModelSpec.Preset("tiny", seed: 7), Path.Combine(tmp.Path, "b"), vocab);
        var c = SyntheticModelGenerator.Write(SyntheticModelSpec.Preset("tiny", seed: 8), Path.Combine(tmp.Path, "c"), vocab);

        var bytesA = File.ReadAllBytes(Path.Combine(a, SyntheticModelGenerator.OnnxRelativePath));
        var bytesB = File.ReadAllBytes(Path.Combine(b, SyntheticModelGenerator.OnnxRelativePath));
        var bytesC = File.ReadAllBytes(Path.Combine(c, SyntheticModelGenerator.OnnxRelativePath));
        Assert.True(bytesA.Length > 30522 * 32 * 4, $"model.onnx is only {bytesA.Length} bytes");
        Assert.Equal(bytesA, bytesB);
        Assert.Equal(bytesA.Length, bytesC.Length);
        Assert.NotEqual(bytesA, bytesC);

        var wordA = SyntheticWeights.Create(SyntheticModelGenerator.ResolveVocab(SyntheticModelSpec.Preset("tiny", seed: 7), vocab))
            ["embeddings.word_embeddings.weight"].Data;
        var wordC = SyntheticWeights.Create(SyntheticModelGenerator.ResolveVocab(SyntheticModelSpec.Preset("tiny", seed: 8), vocab))
            ["embeddings.word_embeddings.weight"].Data;
        var differing = wordA.Zip(wordC).Count(p => p.First != p.Second);
        Assert.True(differing > wordA.Length * 0.99, $"only {differing} of {wordA.Length} values differ between seeds");
    }

    [Fact]
    public void Random_weights_have_the_requested_spread_and_layer_norms_are_identity()
    {
        var spec = SyntheticModelSpec.Preset("tiny", vocabSize: 1000);
        var w = SyntheticWeights.Create(spec);
        var q = w["encoder.layer.0.attention.self.query.weight"].Data;
        var mean = q.Average();
        var std = Math.Sqrt(q.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, -0.02, 0.02);
        Assert.InRange(std, spec.InitStd * 0.9, spec.InitStd * 1.1);
        Assert.All(w["encoder.layer.1.output.LayerNorm.weight"].Data, v => Assert.Equal(1f, v));
        Assert.All(w["encoder.layer.1.output.LayerNorm.bias"].Data, v => Assert.Equal(0f, v));
        Assert.Equal(0.02f, SyntheticModelSpec.Preset("bge-small").InitStd);
    }

    [Fact]
    public void Bert_cross_encoder_folder_has_hf_files_and_config_matches_spec()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        var vocab = SharedData.BertVocab;
        var spec = SyntheticModelSpec.Preset("tiny", kind: SyntheticModelKind.CrossEncoder, seed: 123);
        var folder = SyntheticModelGenerator.Write(spec, tmp.Path, vocab);

        Assert.True(File.Exists(Path.Combine(folder, "config.json")));
        Assert.True(File.Exists(Path.Combine(folder, "tokenizer_config.json")));
        Assert.True(File.Exists(Path.Combine(folder, "onnx", "model.onnx")));
        Assert.Equal(File.ReadAllBytes(vocab), File.ReadAllBytes(Path.Combine(folder, "vocab.txt")));

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.json")));
        var root = config.RootElement;
        Assert.Equal("bert", root.GetProperty("model_type").GetString());
        Assert.Equal("BertForSequenceClassification", root.GetProperty("architectures")[0].GetString());
        Assert.Equal(2, root.GetProperty("num_hidden_layers").GetInt32());
        Assert.Equal(32, root.GetProperty("hidden_size").GetInt32());
        Assert.Equal(4, root.GetProperty("num_attention_heads").GetInt32());
        Assert.Equal(64, root.GetProperty("intermediate_size").GetInt32());
        Assert.Equal(File.ReadLines(vocab).Count(), root.GetProperty("vocab_size").GetInt32());
        Assert.Equal(512, root.GetProperty("max_position_embeddings").GetInt32());
        Assert.Equal(2, root.GetProperty("type_vocab_size").GetInt32());
        Assert.Equal(1e-12, root.GetProperty("layer_norm_eps").GetDouble());
        Assert.Equal(0, root.GetProperty("pad_token_id").GetInt32());
        var synthetic = root.GetProperty("bgevectordb_synthetic");
        Assert.Equal(123, synthetic.GetProperty("seed").GetInt32());
        Assert.Equal("tiny", synthetic.GetProperty("preset").GetString());
        Assert.Contains("random weights", synthetic.GetProperty("note").GetString());

        using var tokenizerConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer_config.json")));
        Assert.True(tokenizerConfig.RootElement.GetProperty("do_lower_case").GetBoolean());
        Assert.Equal(512, tokenizerConfig.RootElement.GetProperty("model_max_length").GetInt32());

        using var session = new InferenceSession(Path.Combine(folder, SyntheticModelGenerator.OnnxRelativePath));
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], session.InputMetadata.Keys.ToArray());
        Assert.All(session.InputMetadata.Values, m =>
        {
            Assert.Equal(typeof(long), m.ElementType);
            Assert.Equal(["batch_size", "sequence_length"], m.SymbolicDimensions);
        });
        Assert.Equal(["logits"], session.OutputMetadata.Keys.ToArray());
        Assert.Equal([-1, 1], session.OutputMetadata["logits"].Dimensions);
    }

    [Fact]
    public void Xlmr_reranker_preset_folder_is_xlm_roberta_shaped()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        var spm = Path.Combine(tmp.Path, "spm.model");
        File.WriteAllBytes(spm, [9, 9, 9]);
        // Written without running: only config and the ONNX header are checked (the graph is 12 x 768).
        var spec = SyntheticModelSpec.Preset("reranker-base-xlmr", vocabSize: 1002);
        Assert.Equal((12, 768, 12, 3072, 514, 1, 1e-5), (spec.Layers, spec.Hidden, spec.Heads, spec.Ffn, spec.MaxPositions, spec.TypeVocabSize, spec.LayerNormEps));
        Assert.Equal(SyntheticModelFamily.XlmRoberta, spec.Family);
        Assert.Equal(SyntheticModelKind.CrossEncoder, spec.Kind);

        var tiny = SyntheticModelSpec.Preset("tiny", SyntheticModelFamily.XlmRoberta, SyntheticModelKind.CrossEncoder, vocabSize: 1002);
        var folder = SyntheticModelGenerator.Write(tiny, Path.Combine(tmp.Path, "m"), spm);
        Assert.True(File.Exists(Path.Combine(folder, "sentencepiece.bpe.model")));
        Assert.False(File.Exists(Path.Combine(folder, "vocab.txt")));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.json")));
        Assert.Equal("xlm-roberta", config.RootElement.GetProperty("model_type").GetString());
        Assert.Equal("XLMRobertaForSequenceClassification", config.RootElement.GetProperty("architectures")[0].GetString());
        Assert.Equal(514, config.RootElement.GetProperty("max_position_embeddings").GetInt32());
        Assert.Equal(1, config.RootElement.GetProperty("type_vocab_size").GetInt32());
        Assert.Equal(1, config.RootElement.GetProperty("pad_token_id").GetInt32());
        Assert.Equal(1e-5, config.RootElement.GetProperty("layer_norm_eps").GetDouble());
        using var tokenizerConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer_config.json")));
        Assert.False(tokenizerConfig.RootElement.TryGetProperty("do_lower_case", out _));
    }

    [Fact]
    public void Bge_small_preset_has_the_exact_bge_small_en_v15_shape_and_loads_in_ort()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        var sw = Stopwatch.StartNew();
        var folder = SyntheticModelGenerator.Write(SyntheticModelSpec.Preset("bge-small"), tmp.Path, SharedData.BertVocab);
        var elapsed = sw.Elapsed;
        output.WriteLine($"bge-small generation: {elapsed.TotalSeconds:F1} s");

        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.json"))))
        {
            var root = config.RootElement;
            Assert.Equal("BertModel", root.GetProperty("architectures")[0].GetString());
            Assert.Equal(
                (12, 384, 12, 1536, 30522, 512),
                (root.GetProperty("num_hidden_layers").GetInt32(), root.GetProperty("hidden_size").GetInt32(),
                 root.GetProperty("num_attention_heads").GetInt32(), root.GetProperty("intermediate_size").GetInt32(),
                 root.GetProperty("vocab_size").GetInt32(), root.GetProperty("max_position_embeddings").GetInt32()));
        }

        var onnxPath = Path.Combine(folder, SyntheticModelGenerator.OnnxRelativePath);
        ModelProto model;
        using (var stream = File.OpenRead(onnxPath))
        {
            model = ModelProto.Parser.ParseFrom(stream);
        }

        var shapes = model.Graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray());
        Assert.Equal([30522L, 384], shapes["embeddings.word_embeddings.weight"]);
        Assert.Equal([512L, 384], shapes["embeddings.position_embeddings.weight"]);
        Assert.Equal([2L, 384], shapes["embeddings.token_type_embeddings.weight"]);
        for (var i = 0; i < 12; i++)
        {
            Assert.Equal([384L, 384], shapes[$"encoder.layer.{i}.attention.self.query.weight"]);
            Assert.Equal([384L, 1536], shapes[$"encoder.layer.{i}.intermediate.dense.weight"]);
            Assert.Equal([1536L, 384], shapes[$"encoder.layer.{i}.output.dense.weight"]);
        }

        Assert.False(shapes.ContainsKey("encoder.layer.12.attention.self.query.weight"));
        Assert.Equal(12, model.Graph.Node.Count(n => n.OpType == "Softmax"));
        var floats = model.Graph.Initializer.Where(t => t.DataType == (int)TensorProto.Types.DataType.Float && t.Dims.Count > 0)
            .Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));
        // bge-small-en-v1.5's 33.36M parameters minus the pooler (384 x 384 + 384) a feature-extraction export drops:
        // embeddings 30522*384 + 512*384 + 2*384 + LN 2*384; per layer 4 dense (384^2+384) + 2 LN + FFN in/out.
        const long perLayer = (4 * ((384 * 384) + 384)) + (2 * 2 * 384) + ((384 * 1536) + 1536) + ((1536 * 384) + 384);
        const long embeddings = ((30522 + 512 + 2) * 384) + (2 * 384);
        Assert.Equal(embeddings + (12 * perLayer), floats);
        Assert.Equal(33_360_000L, floats + (384 * 384) + 384);
        Assert.Equal(17, model.OpsetImport.Single().Version);

        // Loaded (graph checked by ORT) but not optimised or run: only metadata is read here.
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(onnxPath, options);
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], session.InputMetadata.Keys.ToArray());
        Assert.Equal([-1, -1, 384], session.OutputMetadata["last_hidden_state"].Dimensions);
        Assert.Equal(["batch_size", "sequence_length", ""], session.OutputMetadata["last_hidden_state"].SymbolicDimensions);
    }

    [Fact]
    public void Presets_have_documented_shapes_and_unknown_names_throw()
    {
        var minilm = SyntheticModelSpec.Preset("minilm-l6-cross");
        Assert.Equal((6, 384, 12, 1536, 30522, 512, 2), (minilm.Layers, minilm.Hidden, minilm.Heads, minilm.Ffn, minilm.VocabSize, minilm.MaxPositions, minilm.TypeVocabSize));
        Assert.Equal(SyntheticModelKind.CrossEncoder, minilm.Kind);
        Assert.Equal(SyntheticModelFamily.Bert, minilm.Family);
        var small = SyntheticModelSpec.Preset("bge-small");
        Assert.Equal(SyntheticModelKind.BiEncoder, small.Kind);
        Assert.Equal(1e-12, small.LayerNormEps);
        Assert.Equal(4, SyntheticModelSpec.PresetNames.Count);
        Assert.Throws<ArgumentException>(() => SyntheticModelSpec.Preset("bge-large"));
        Assert.Throws<ArgumentException>(() => SyntheticModelSpec.Preset("bge-small", kind: SyntheticModelKind.CrossEncoder));
        Assert.Throws<ArgumentException>(() => (SyntheticModelSpec.Preset("tiny", vocabSize: 100) with { Heads = 5 }).Validate());
    }
}
