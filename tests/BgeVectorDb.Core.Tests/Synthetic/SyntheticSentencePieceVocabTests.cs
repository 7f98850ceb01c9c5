using System.Diagnostics;
using System.Text.Json;
using BgeVectorDb.Synthetic;

namespace BgeVectorDb.Core.Tests.Synthetic;

/// <summary>XLM-R vocab size derived from a real SentencePiece model (trained here with Debian's spm_train).</summary>
public sealed class SyntheticSentencePieceVocabTests
{
    [Fact]
    public async Task Xlmr_vocab_is_sentencepiece_pieces_plus_fairseq_offset_and_mask()
    {
        using var tmp = new TempDirectory("bgevdb-synth");
        var words = new[] { "alpha", "beta", "gamma", "delta", "vector", "search", "model", "token", "query", "rank" };
        var random = new Random(1);
        var lines = Enumerable.Range(0, 300).Select(_ => string.Join(' ', Enumerable.Range(0, 12).Select(_ => words[random.Next(words.Length)])));
        var corpus = Path.Combine(tmp.Path, "corpus.txt");
        File.WriteAllLines(corpus, lines);
        var prefix = Path.Combine(tmp.Path, "spm");
        var psi = new ProcessStartInfo("spm_train")
        {
            ArgumentList = { $"--input={corpus}", $"--model_prefix={prefix}", "--vocab_size=60", "--model_type=bpe" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using (var process = Process.Start(psi) ?? throw new InvalidOperationException("spm_train did not start (scripts/install-deps.sh)"))
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            await stdout;
            Assert.True(process.ExitCode == 0, "spm_train failed: " + await stderr);
        }

        var spec = SyntheticModelSpec.Preset("tiny", SyntheticModelFamily.XlmRoberta, SyntheticModelKind.CrossEncoder);
        Assert.Equal(0, spec.VocabSize);
        var folder = SyntheticModelGenerator.Write(spec, Path.Combine(tmp.Path, "model"), prefix + ".model");

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "config.json")));
        Assert.Equal(62, config.RootElement.GetProperty("vocab_size").GetInt32());
        // The highest id (<mask> = 61) is a valid row of the word-embedding table.
        var (logits, _) = SyntheticOnnxForwardTests.Run(folder, "logits", [[0, 61, 5, 2]], [[1, 1, 1, 1]], null);
        Assert.True(float.IsFinite(logits[0]));
    }
}
