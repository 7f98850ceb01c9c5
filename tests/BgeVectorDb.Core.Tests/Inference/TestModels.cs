using BgeVectorDb.Synthetic;

namespace BgeVectorDb.Core.Tests.Inference;

/// <summary>Tiny synthetic models generated once per test run into a temp folder (deleted at exit).</summary>
internal static class TestModels
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "bgevdb-infer-tests-" + Environment.ProcessId);
    private static readonly Lazy<TestModel> TinyBertEmbedderLazy = new(() => Generate("tiny-bert-embed",
        TinyModels.Bert(SyntheticModelKind.BiEncoder), SharedData.BertVocab));
    private static readonly Lazy<TestModel> TinyBertCrossLazy = new(() => Generate("tiny-bert-cross",
        TinyModels.Bert(SyntheticModelKind.CrossEncoder, seed: 7), SharedData.BertVocab));

    private static readonly Lazy<TestModel> TinyXlmrCrossLazy = new(() => Generate("tiny-xlmr-cross",
        SyntheticModelSpec.Preset("tiny", SyntheticModelFamily.XlmRoberta, SyntheticModelKind.CrossEncoder, seed: 11),
        Tokenization.SentencePieceTestModel.ModelPath));

    static TestModels()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                if (Directory.Exists(Root))
                {
                    Directory.Delete(Root, recursive: true);
                }
            }
            catch (IOException)
            {
                // Best effort.
            }
        };
    }

    public static TestModel TinyBertEmbedder => TinyBertEmbedderLazy.Value;

    public static TestModel TinyBertCross => TinyBertCrossLazy.Value;

    /// <summary>XLM-R cross-encoder over the SentencePiece model of scripts/make-test-spm.sh.</summary>
    public static TestModel TinyXlmrCross => TinyXlmrCrossLazy.Value;

    private static TestModel Generate(string name, SyntheticModelSpec spec, string tokenizerFile)
    {
        var folder = SyntheticModelGenerator.Write(spec, Path.Combine(Root, name), tokenizerFile);
        return new TestModel(folder, Path.Combine(folder, SyntheticModelGenerator.OnnxRelativePath), spec);
    }
}

internal sealed record TestModel(string Folder, string OnnxPath, SyntheticModelSpec Spec);
