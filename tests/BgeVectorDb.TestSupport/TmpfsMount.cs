using System.Diagnostics;

namespace BgeVectorDb.TestSupport;

/// <summary>
/// A fresh temp folder on which a small tmpfs can be mounted, for tests of a full disk. Mounting needs root: without
/// it <see cref="TryMount"/> says why, and the test writes that and passes without checking anything. Dispose
/// unmounts (lazily) and deletes the folder.
/// </summary>
public sealed class TmpfsMount(string prefix) : IDisposable
{
    private readonly TempDirectory _dir = new(prefix);

    /// <summary>The mount point (a folder that exists whether or not the mount succeeded).</summary>
    public string Path => _dir.Path;

    public bool Mounted { get; private set; }

    /// <summary><c>mount -t tmpfs -o size={size} tmpfs {Path}</c>; false with the command's output when it fails.</summary>
    public bool TryMount(string size, out string why)
    {
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", Path);
        Mounted = code == 0;
        why = output.Trim();
        return Mounted;
    }

    /// <summary>Runs a command; (exit code, stdout + stderr), or (-1, why) when it cannot start.</summary>
    public static (int Code, string Output) Run(string file, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }

    public void Dispose()
    {
        if (Mounted)
        {
            Run("umount", "-l", Path);
        }
        _dir.Dispose();
    }
}
