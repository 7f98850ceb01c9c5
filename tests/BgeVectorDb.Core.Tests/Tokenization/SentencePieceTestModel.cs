using System.Diagnostics;

namespace BgeVectorDb.Core.Tests.Tokenization;

/// <summary>
/// The small SentencePiece Unigram model trained by scripts/make-test-spm.sh on SciFact, built once
/// per test run into the test's bin folder (reused while its recipe is unchanged), plus
/// <c>spm_encode</c> as the independent reference. A missing spm_train fails the tests loudly.
/// </summary>
internal static class SentencePieceTestModel
{
    private static readonly Lazy<string> ModelPathLazy = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Path of sentencepiece.bpe.model (vocab 8000, unk=0, s=1, /s=2).</summary>
    public static string ModelPath => ModelPathLazy.Value;

    private static string Build()
    {
        string script = SharedData.RequireFile(Path.Combine(SharedData.RepoRoot, "scripts", "make-test-spm.sh"));
        string outDir = Path.Combine(AppContext.BaseDirectory, "spm-cache");
        (int code, string stdout, string stderr) = Run("bash", [script, outDir], stdin: null);
        if (code != 0)
        {
            throw new InvalidOperationException(
                $"scripts/make-test-spm.sh failed (exit {code}); run scripts/install-deps.sh to install spm_train.\n{stderr}");
        }

        string path = stdout.Trim().Split('\n')[^1].Trim();
        SharedData.RequireFile(path);
        return path;
    }

    /// <summary>Raw SentencePiece ids from Debian's <c>spm_encode --output_format=id</c>, one list per text.
    /// Texts must not contain newlines (spm_encode reads one sentence per line).</summary>
    public static List<int[]> SpmEncode(IReadOnlyList<string> texts)
    {
        foreach (string t in texts)
        {
            Assert.DoesNotContain('\n', t);
        }

        (int code, string stdout, string stderr) = Run(
            "spm_encode", [$"--model={ModelPath}", "--output_format=id"], string.Join('\n', texts) + "\n");
        Assert.True(code == 0, $"spm_encode failed (exit {code}): {stderr}");
        string[] lines = stdout.Split('\n');
        var result = new List<int[]>();
        for (int i = 0; i < texts.Count; i++)
        {
            result.Add(lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray());
        }

        return result;
    }

    private static (int Code, string Stdout, string Stderr) Run(string file, string[] args, string? stdin)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            StandardInputEncoding = stdin is not null ? new System.Text.UTF8Encoding(false) : null,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"Cannot run '{file}' ({ex.Message}); run scripts/install-deps.sh.", ex);
        }

        using (process)
        {
            Task<string> stdoutTask = process.StandardOutput.ReadToEndAsync();
            Task<string> stderrTask = process.StandardError.ReadToEndAsync();
            if (stdin is not null)
            {
                process.StandardInput.Write(stdin);
                process.StandardInput.Close();
            }

            if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"'{file}' did not finish in 10 minutes.");
            }

            return (process.ExitCode, stdoutTask.Result, stderrTask.Result);
        }
    }
}
