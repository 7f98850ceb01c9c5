using System.Diagnostics;

namespace BgeVectorDb.Core.Tests.Tokenization;

public sealed class MakeTestSpmScriptTests
{
    [Fact]
    public void ModelIsBuiltAndReported()
    {
        string path = SentencePieceTestModel.ModelPath;
        Assert.Equal("sentencepiece.bpe.model", Path.GetFileName(path));
        TokenizerJsonWriter.SpmModel model = TokenizerJsonWriter.ReadModel(path);
        Assert.Equal(8000, model.Pieces.Count);
        Assert.Equal(["<unk>", "<s>", "</s>"], model.Pieces.Take(3).Select(p => p.Piece));
        Assert.NotEmpty(model.Charsmap); // nmt_nfkc rules are embedded
    }

    [Fact]
    public void MissingSpmTrain_FailsWithClearMessage()
    {
        string script = Path.Combine(SharedData.RepoRoot, "scripts", "make-test-spm.sh");
        using var temp = new TempDirectory("bgevdb-spm");
        string outDir = temp.Path;
        var psi = new ProcessStartInfo("/bin/bash") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(outDir);
        psi.Environment["PATH"] = outDir; // nothing there: spm_train cannot be found
        using Process p = Process.Start(psi)!;
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();

        Assert.Equal(3, p.ExitCode);
        Assert.Contains("spm_train not found", stderr);
    }
}
