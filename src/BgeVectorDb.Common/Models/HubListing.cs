using System.Text.Json;

namespace BgeVectorDb.Common.Models;

/// <summary>One file of a hub repo, from <c>GET {endpoint}/api/models/{id}/revision/{rev}?blobs=true</c>.</summary>
/// <param name="Path">The sibling's <c>rfilename</c>.</param>
/// <param name="Size">Byte size (the <c>lfs.size</c> of LFS files, else <c>size</c>), when listed.</param>
/// <param name="Sha256">The <c>lfs.sha256</c> of LFS files, lower-case hex.</param>
/// <param name="GitBlobId">The <c>blobId</c> (git SHA-1 of the blob) of non-LFS files.</param>
internal sealed record HubFile(string Path, long? Size, string? Sha256, string? GitBlobId);

/// <summary>A hub repo at one revision: its commit (<c>sha</c>) and files (<c>siblings</c>).</summary>
internal sealed record HubListing(string? Commit, IReadOnlyList<HubFile> Files)
{
    /// <summary>The listed file at <paramref name="path"/>, or null.</summary>
    public HubFile? Find(string path) => Files.FirstOrDefault(f => f.Path == path);

    /// <summary>Parses the model-info JSON of the hub API. Throws <see cref="JsonException"/> when it has no
    /// <c>siblings</c> array.</summary>
    public static HubListing Parse(Stream json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("siblings", out var siblings)
            || siblings.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("model info has no 'siblings' array");
        }
        string? commit = root.TryGetProperty("sha", out var sha) && sha.ValueKind == JsonValueKind.String ? sha.GetString() : null;
        var files = new List<HubFile>();
        foreach (var s in siblings.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.Object || !s.TryGetProperty("rfilename", out var name) || name.ValueKind != JsonValueKind.String)
            {
                continue;
            }
            long? size = Int64(s, "size");
            string? sha256 = null;
            string? blobId = String(s, "blobId");
            if (s.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
            {
                sha256 = String(lfs, "sha256")?.ToLowerInvariant();
                size = Int64(lfs, "size") ?? size;
                blobId = null; // the blob id of an LFS file hashes the pointer, not the content
            }
            files.Add(new HubFile(name.GetString()!, size, sha256, blobId?.ToLowerInvariant()));
        }
        return new HubListing(commit, files);
    }

    private static long? Int64(JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;

    private static string? String(JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
