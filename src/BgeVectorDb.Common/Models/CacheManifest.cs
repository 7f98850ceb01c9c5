using System.Text.Json;
using System.Text.Json.Serialization;

namespace BgeVectorDb.Common.Models;

/// <summary>
/// Completion marker of a cached download, <c>{cache}/{org}--{name}/.bgevdb-manifest.json</c>. Written
/// last (temp file + rename) once every file was downloaded and its size and hash checked; a folder
/// without it is an unfinished download and is never used.
/// </summary>
internal sealed record CacheManifest(
    int FormatVersion,
    string ModelId,
    string Revision,
    string? Commit,
    string Endpoint,
    DateTimeOffset CompletedUtc,
    IReadOnlyList<CacheManifestFile> Files)
{
    public const string FileName = ".bgevdb-manifest.json";
    public const int CurrentFormatVersion = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Reads the manifest of <paramref name="directory"/>; null with a reason when absent or unusable.</summary>
    public static CacheManifest? TryRead(string directory, out string? problem)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            problem = Directory.Exists(directory) ? "no completed download (manifest missing)" : "not downloaded";
            return null;
        }
        try
        {
            var manifest = JsonSerializer.Deserialize<CacheManifest>(File.ReadAllText(path), Json);
            if (manifest is null || manifest.FormatVersion != CurrentFormatVersion || manifest.Files is null)
            {
                problem = "manifest unreadable or of another format version";
                return null;
            }
            problem = null;
            return manifest;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            problem = $"manifest unreadable: {e.Message}";
            return null;
        }
    }

    /// <summary>Null when every listed file is on disk with its recorded size, else what is wrong.</summary>
    public string? CheckFiles(string directory)
    {
        foreach (var f in Files)
        {
            var info = new FileInfo(ModelFolder.FullPath(directory, f.Path));
            if (!info.Exists)
            {
                return $"{f.Path} listed in the manifest is missing";
            }
            if (info.Length != f.Size)
            {
                return $"{f.Path} has {info.Length} bytes, manifest says {f.Size}";
            }
        }
        return null;
    }

    /// <summary>Null when every listed file has its recorded SHA-256, else the first that does not (a file
    /// changed after it was verified, e.g. tampered with or damaged on disk).</summary>
    public string? CheckHashes(string directory)
    {
        foreach (var f in Files)
        {
            using var stream = new FileStream(ModelFolder.FullPath(directory, f.Path), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
            if (!actual.Equals(f.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                return $"{f.Path} has SHA-256 {actual}, manifest says {f.Sha256} (changed since it was verified; pull or download it again)";
            }
        }
        return null;
    }

    /// <summary>True for an entry written by <c>bgevdb models pull nuget:...</c> or <c>models synth</c> rather than a
    /// hub download: its revision is a package version (or "local"), so the hub revision setting does not apply.</summary>
    [JsonIgnore]
    public bool IsLocalEntry => Endpoint.StartsWith(NuGetModelPuller.EndpointPrefix, StringComparison.Ordinal)
                                || Endpoint.StartsWith(LocalCacheEntry.EndpointPrefix, StringComparison.Ordinal);

    /// <summary>Writes the manifest atomically (temp file, flush, rename).</summary>
    public void Write(string directory)
    {
        var path = Path.Combine(directory, FileName);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, this, Json);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Removes the manifest, making the folder an unfinished download.</summary>
    public static void Delete(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (File.Exists(path))
        {
            File.Delete(path);
        }
    }
}

/// <summary>One verified file of a cached download.</summary>
internal sealed record CacheManifestFile(string Path, long Size, string Sha256);
