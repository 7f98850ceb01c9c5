using System.Text;
using System.Text.Json;

namespace BgeVectorDb.Synthetic.Internal;

/// <summary>Writes the JSON side files of a Hugging Face style model folder.</summary>
internal static class HfFolderFiles
{
    public const string Note = "random weights, non-semantic, for testing only";

    public static void WriteConfig(string path, SyntheticModelSpec spec)
    {
        var bert = spec.Family == SyntheticModelFamily.Bert;
        var cross = spec.Kind == SyntheticModelKind.CrossEncoder;
        Write(path, j =>
        {
            j.WriteStartArray("architectures");
            j.WriteStringValue((bert ? "Bert" : "XLMRoberta") + (cross ? "ForSequenceClassification" : "Model"));
            j.WriteEndArray();
            j.WriteString("model_type", spec.ModelType);
            j.WriteNumber("hidden_size", spec.Hidden);
            j.WriteNumber("num_hidden_layers", spec.Layers);
            j.WriteNumber("num_attention_heads", spec.Heads);
            j.WriteNumber("intermediate_size", spec.Ffn);
            j.WriteString("hidden_act", "gelu");
            j.WriteNumber("vocab_size", spec.VocabSize);
            j.WriteNumber("max_position_embeddings", spec.MaxPositions);
            j.WriteNumber("type_vocab_size", spec.TypeVocabSize);
            j.WriteNumber("layer_norm_eps", spec.LayerNormEps);
            j.WriteNumber("initializer_range", spec.InitStd);
            j.WriteNumber("pad_token_id", spec.PadTokenId);
            if (!bert)
            {
                j.WriteNumber("bos_token_id", 0);
                j.WriteNumber("eos_token_id", 2);
            }

            j.WriteString("position_embedding_type", "absolute");
            if (cross)
            {
                j.WriteStartObject("id2label");
                j.WriteString("0", "LABEL_0");
                j.WriteEndObject();
                j.WriteStartObject("label2id");
                j.WriteNumber("LABEL_0", 0);
                j.WriteEndObject();
            }

            j.WriteString("torch_dtype", "float32");
            j.WriteStartObject("bgevectordb_synthetic");
            j.WriteNumber("seed", spec.Seed);
            j.WriteString("preset", spec.PresetName);
            j.WriteString("kind", spec.Kind == SyntheticModelKind.BiEncoder ? "bi-encoder" : "cross-encoder");
            j.WriteNumber("opset", BertOnnxGraph.Opset);
            j.WriteString("note", Note);
            j.WriteEndObject();
        });
    }

    public static void WriteTokenizerConfig(string path, SyntheticModelSpec spec)
    {
        var bert = spec.Family == SyntheticModelFamily.Bert;
        Write(path, j =>
        {
            j.WriteString("tokenizer_class", bert ? "BertTokenizer" : "XLMRobertaTokenizer");
            j.WriteNumber("model_max_length", 512);
            if (bert)
            {
                j.WriteBoolean("do_lower_case", true);
                j.WriteString("unk_token", "[UNK]");
                j.WriteString("sep_token", "[SEP]");
                j.WriteString("pad_token", "[PAD]");
                j.WriteString("cls_token", "[CLS]");
                j.WriteString("mask_token", "[MASK]");
            }
            else
            {
                j.WriteString("bos_token", "<s>");
                j.WriteString("eos_token", "</s>");
                j.WriteString("unk_token", "<unk>");
                j.WriteString("sep_token", "</s>");
                j.WriteString("pad_token", "<pad>");
                j.WriteString("cls_token", "<s>");
                j.WriteString("mask_token", "<mask>");
            }
        });
    }

    private static void Write(string path, Action<Utf8JsonWriter> body)
    {
        using var stream = File.Create(path);
        using (var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            body(j);
            j.WriteEndObject();
        }

        stream.Write("\n"u8);
    }
}
