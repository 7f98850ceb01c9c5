using BgeVectorDb.Common.Models;
using BgeVectorDb.Synthetic.Internal;
using BgeVectorDb.Synthetic.Onnx;
using Google.Protobuf;

namespace BgeVectorDb.Synthetic;

/// <summary>
/// Writes BERT / XLM-R architecture ONNX models with seeded random weights into a folder shaped like a
/// Hugging Face repository:
/// <code>
/// config.json              model_type, sizes, layer_norm_eps, pad_token_id, "bgevectordb_synthetic": {seed, preset, note}
/// bgevectordb-synthetic.json  the marker servers and tools read ({"synthetic": true, preset, seed, note}; SyntheticModelMarker)
/// tokenizer_config.json    do_lower_case (BERT), model_max_length 512
/// vocab.txt                (BERT) or sentencepiece.bpe.model (XLM-R), copied from the caller's file
/// onnx/model.onnx          opset 17, all initializers inline (raw_data)
/// </code>
/// The models compute exactly what a real checkpoint of that architecture computes, only with random
/// weights: outputs are deterministic but meaningless.
/// </summary>
public static class SyntheticModelGenerator
{
    /// <summary>Path of the ONNX file inside a model folder.</summary>
    public const string OnnxRelativePath = "onnx/model.onnx";

    /// <summary>Tokenizer file name in the folder: "vocab.txt" (BERT) or "sentencepiece.bpe.model" (XLM-R).</summary>
    public static string TokenizerFileName(SyntheticModelFamily family) =>
        family == SyntheticModelFamily.Bert ? "vocab.txt" : "sentencepiece.bpe.model";

    /// <summary>The spec with <see cref="SyntheticModelSpec.VocabSize"/> resolved from the tokenizer file when 0.</summary>
    public static SyntheticModelSpec ResolveVocab(SyntheticModelSpec spec, string tokenizerFilePath)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.VocabSize > 0 ? spec : spec with { VocabSize = TokenizerVocab.Size(spec.Family, tokenizerFilePath) };
    }

    /// <summary>
    /// Writes the model folder (created if missing; existing files of the same names are overwritten) and
    /// returns its full path.
    /// </summary>
    /// <param name="spec">Model shape and seed; VocabSize 0 = from <paramref name="tokenizerFilePath"/>.</param>
    /// <param name="outputFolder">Target folder.</param>
    /// <param name="tokenizerFilePath">vocab.txt (BERT) or a SentencePiece model (XLM-R); copied into the folder.</param>
    public static string Write(SyntheticModelSpec spec, string outputFolder, string tokenizerFilePath)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrEmpty(outputFolder);
        ArgumentException.ThrowIfNullOrEmpty(tokenizerFilePath);
        if (!File.Exists(tokenizerFilePath))
        {
            throw new FileNotFoundException("Tokenizer file not found.", tokenizerFilePath);
        }

        spec = ResolveVocab(spec, tokenizerFilePath);
        spec.Validate();
        var folder = Path.GetFullPath(outputFolder);
        Directory.CreateDirectory(Path.Combine(folder, "onnx"));

        var weights = SyntheticWeights.Create(spec);
        WriteOnnx(BuildModel(weights), Path.Combine(folder, OnnxRelativePath));
        HfFolderFiles.WriteConfig(Path.Combine(folder, "config.json"), spec);
        HfFolderFiles.WriteTokenizerConfig(Path.Combine(folder, "tokenizer_config.json"), spec);
        File.Copy(tokenizerFilePath, Path.Combine(folder, TokenizerFileName(spec.Family)), overwrite: true);
        SyntheticModelMarker.Write(folder, spec.PresetName, spec.Seed, HfFolderFiles.Note);
        return folder;
    }

    /// <summary>Builds the ONNX model for already drawn weights (no file IO).</summary>
    public static ModelProto BuildModel(SyntheticWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX raw_data is little-endian; big-endian hosts are not supported.");
        }

        return BertOnnxGraph.Build(weights);
    }

    private static void WriteOnnx(ModelProto model, string path)
    {
        var tmp = path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            model.WriteTo(stream);
        }

        File.Move(tmp, path, overwrite: true);
    }
}
