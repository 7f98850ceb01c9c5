namespace BgeVectorDb.Common.Models;

/// <summary>
/// Turns a folder written in the model cache by a local tool (<c>bgevdb models synth</c>) into a completed
/// cache entry: the same manifest a hub download writes (every file with its size and SHA-256), so the
/// resolver serves it offline and refuses it once a file changes.
/// </summary>
public static class LocalCacheEntry
{
    /// <summary>Manifest endpoint prefix of entries written by a local tool ("local:{origin}").</summary>
    internal const string EndpointPrefix = "local:";

    /// <summary>Hashes every file under <paramref name="directory"/> and writes its manifest (last, atomically).</summary>
    /// <param name="directory">The cache entry, <c>{cache}/{org}--{name}</c>.</param>
    /// <param name="modelId">The id the entry serves.</param>
    /// <param name="origin">What wrote it, e.g. "synthetic bge-small seed 42" (recorded in the manifest).</param>
    /// <param name="version">Recorded as the manifest's revision.</param>
    public static void Seal(string directory, string modelId, string origin, string version = "local")
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ModelCatalog.ValidateId(modelId);
        CacheManifest.Delete(directory);
        var files = new List<CacheManifestFile>();
        foreach (var path in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(directory, path).Replace(Path.DirectorySeparatorChar, '/');
            if (relative.StartsWith('.') || relative.EndsWith(".tmp", StringComparison.Ordinal) || relative.EndsWith(".incomplete", StringComparison.Ordinal))
            {
                continue;
            }
            using var stream = File.OpenRead(path);
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
            files.Add(new CacheManifestFile(relative, stream.Length, sha));
        }
        new CacheManifest(CacheManifest.CurrentFormatVersion, ModelCatalog.Describe(modelId).Id, version, null,
            EndpointPrefix + origin, DateTimeOffset.UtcNow, files).Write(directory);
    }
}
