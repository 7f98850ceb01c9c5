using System.Diagnostics;

namespace BgeVectorDb.TestSupport;

/// <summary>
/// A fresh temp folder on which small tmpfs volumes can be mounted (the folder itself, and folders below it), for
/// tests of a full disk. Mounting needs root: without it the Try methods say why, and the test writes that and passes
/// without checking anything. Dispose unmounts (lazily, innermost first) and deletes the folder.
/// </summary>
public sealed class TmpfsMount(string prefix) : IDisposable
{
    private readonly TempDirectory _dir = new(prefix);
    private readonly List<string> _mounted = [];

    /// <summary>The folder (it exists whether or not a mount succeeded).</summary>
    public string Path => _dir.Path;

    /// <summary><c>mount -t tmpfs -o size={size} tmpfs {Path}</c>; false with the command's output when it fails.</summary>
    public bool TryMount(string size, out string why) => TryMountAt(Path, size, out why);

    /// <summary>Creates <paramref name="folder"/> (e.g. below <see cref="Path"/>, on a volume mounted there) and mounts a
    /// tmpfs of <paramref name="size"/> on it; false with the command's output when it fails.</summary>
    public bool TryMountAt(string folder, string size, out string why)
    {
        Directory.CreateDirectory(folder);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", folder);
        why = output.Trim();
        if (code != 0)
        {
            return false;
        }
        _mounted.Add(folder);
        return true;
    }

    /// <summary><c>umount {folder}</c> (not lazy); the exit code (0 = unmounted).</summary>
    public int Unmount(string folder)
    {
        var code = Run("umount", folder).Code;
        if (code == 0)
        {
            _mounted.Remove(folder);
        }
        return code;
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
        for (var i = _mounted.Count - 1; i >= 0; i--)
        {
            Run("umount", "-l", _mounted[i]);
        }
        _dir.Dispose();
    }
}
