using System.Security.Cryptography;
using System.Text;

namespace BgeVectorDb.Core.Storage;

/// <summary>Small files we own: a header line <c>MAGIC VERSION SHA256-OF-BODY</c> then the body;
/// replaced atomically (temp file, fsync, rename, fsync of the folder).</summary>
internal static class AtomicFile
{
    public static void Write(string path, string magic, int version, string body)
    {
        var bodyBytes = Encoding.UTF8.GetBytes(body);
        var header = Encoding.UTF8.GetBytes($"{magic} {version} {Convert.ToHexStringLower(SHA256.HashData(bodyBytes))}\n");
        var temp = path + ".tmp";
        using (var fs = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(header);
            fs.Write(bodyBytes);
            fs.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        FsyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Reads and verifies; throws InvalidDataException naming the file when the magic,
    /// version or checksum is wrong.</summary>
    public static string Read(string path, string magic, int version)
    {
        var bytes = File.ReadAllBytes(path);
        var newline = Array.IndexOf(bytes, (byte)'\n');
        if (newline < 0) throw new InvalidDataException($"{path}: no header line");
        var parts = Encoding.UTF8.GetString(bytes, 0, newline).Split(' ');
        if (parts.Length != 3 || parts[0] != magic) throw new InvalidDataException($"{path}: not a {magic} file");
        if (parts[1] != version.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new InvalidDataException($"{path}: version {parts[1]} is not supported (expected {version})");
        }
        var body = bytes.AsSpan(newline + 1);
        if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(body)), parts[2], StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: checksum mismatch (file is corrupt)");
        }
        return Encoding.UTF8.GetString(body);
    }

    private static void FsyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            using var handle = File.OpenHandle(directory, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (UnauthorizedAccessException)
        {
            // Some file systems refuse to open directories; the rename is still atomic.
        }
        catch (IOException)
        {
        }
    }
}
