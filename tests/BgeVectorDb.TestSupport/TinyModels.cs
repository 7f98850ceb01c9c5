using BgeVectorDb.Synthetic;

namespace BgeVectorDb.TestSupport;

/// <summary>The "tiny" synthetic BERT models (2 layers, hidden 32, random weights from a seed) over the shared
/// bert-base-uncased vocab, as the engine and server tests run them. Non-semantic: for testing only.</summary>
public static class TinyModels
{
    /// <summary>The tiny BERT spec of <paramref name="kind"/> with weights from <paramref name="seed"/>.</summary>
    public static SyntheticModelSpec Bert(SyntheticModelKind kind = SyntheticModelKind.BiEncoder, int seed = SyntheticModelSpec.DefaultSeed) =>
        SyntheticModelSpec.Preset("tiny", SyntheticModelFamily.Bert, kind, seed);

    /// <summary>Writes the tiny BERT model (config, ONNX, vocab) into <paramref name="folder"/>; returns the folder.</summary>
    public static string WriteBert(string folder, SyntheticModelKind kind = SyntheticModelKind.BiEncoder, int seed = SyntheticModelSpec.DefaultSeed) =>
        SyntheticModelGenerator.Write(Bert(kind, seed), folder, SharedData.BertVocab);
}
