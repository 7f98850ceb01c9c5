using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace BgeVectorDb.Core.Tests.Models;

/// <summary>
/// A real HTTP/1.1 server on 127.0.0.1 (System.Net.HttpListener, random free port) that speaks the part of
/// the Hugging Face hub API the downloader uses: model info with <c>?blobs=true</c>, <c>resolve</c> URLs with
/// Range support, LFS files redirected (302 + X-Linked-Size/X-Linked-Etag) to a "CDN" path on another host
/// name (localhost), and fault injection (dropped connections, wrong listed sizes/hashes).
/// </summary>
internal sealed class FakeHub : LoopbackHttpServer
{
    private readonly ConcurrentDictionary<string, FakeRepo> _repos = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _dropsLeft = new();

    public FakeHub() => Start("127.0.0.1", "localhost");

    /// <summary>When true the server answers Range requests with the whole file (200), as some proxies do.</summary>
    public bool IgnoreRange { get; set; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>Every request seen, in arrival order.</summary>
    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    public sealed record SeenRequest(string Method, string Host, string Path, string? Range, string? Authorization);

    public sealed class FakeRepo
    {
        public string Commit { get; init; } = "0123456789abcdef0123456789abcdef01234567";
        public Dictionary<string, byte[]> Files { get; } = new();
        public HashSet<string> Lfs { get; } = new();
        /// <summary>Listed sizes/hashes that differ from the served bytes (fault injection).</summary>
        public Dictionary<string, long> ListedSizeOverride { get; } = new();
        public Dictionary<string, string> ListedSha256Override { get; } = new();
    }

    public FakeRepo AddRepo(string id)
    {
        var repo = new FakeRepo();
        _repos[id] = repo;
        return repo;
    }

    /// <summary>The next <paramref name="times"/> GETs of <paramref name="path"/> (a resolve or CDN path
    /// suffix) send the full Content-Length but only <paramref name="bytes"/> bytes, then cut the connection.</summary>
    public void DropAfter(string path, long bytes, int times = 1)
    {
        _dropAt[path] = bytes;
        _dropsLeft[path] = times;
    }

    private readonly ConcurrentDictionary<string, long> _dropAt = new();

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string GitBlobId(byte[] data)
    {
        var header = Encoding.ASCII.GetBytes($"blob {data.Length}\0");
        return Convert.ToHexStringLower(SHA1.HashData([.. header, .. data]));
    }

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        Requests.Enqueue(new SeenRequest(request.HttpMethod, request.Url.Host, path, request.Headers["Range"], request.Headers["Authorization"]));
        try
        {
            if (path.StartsWith("/api/models/", StringComparison.Ordinal))
            {
                await ServeInfoAsync(path["/api/models/".Length..], response);
            }
            else if (path.StartsWith("/cdn/", StringComparison.Ordinal))
            {
                var parts = path["/cdn/".Length..].Split('/', 2); // {repo-key}/{file path}
                var (repo, file) = FindFile(parts[0].Replace("--", "/"), parts[1]);
                await ServeBytesAsync(path, repo!.Files[file!], request, response);
            }
            else if (path.Contains("/resolve/", StringComparison.Ordinal))
            {
                var at = path.IndexOf("/resolve/", StringComparison.Ordinal);
                var id = path[1..at];
                var rest = path[(at + "/resolve/".Length)..].Split('/', 2);
                var (repo, file) = FindFile(id, rest.Length == 2 ? rest[1] : "");
                if (repo is null || file is null || rest[0] != repo.Commit)
                {
                    await WriteAsync(response, 404, "Entry not found");
                }
                else if (repo.Lfs.Contains(file))
                {
                    var data = repo.Files[file];
                    response.StatusCode = 302;
                    response.Headers["Location"] = $"http://localhost:{Port}/cdn/{id.Replace("/", "--")}/{file}";
                    response.Headers["X-Linked-Size"] = data.Length.ToString();
                    response.Headers["X-Linked-Etag"] = $"\"{Sha256(data)}\"";
                    response.ContentLength64 = 0;
                    response.Close();
                }
                else
                {
                    await ServeBytesAsync(path, repo.Files[file], request, response);
                }
            }
            else
            {
                await WriteAsync(response, 404, "no route");
            }
        }
        catch (Exception) when (!IsListening)
        {
        }
        catch (HttpListenerException)
        {
        }
        catch (IOException)
        {
        }
    }

    private (FakeRepo? Repo, string? File) FindFile(string id, string file) =>
        _repos.TryGetValue(id, out var repo) ? (repo, repo.Files.ContainsKey(file) ? file : null) : (null, null);

    private async Task ServeInfoAsync(string rest, HttpListenerResponse response)
    {
        var at = rest.IndexOf("/revision/", StringComparison.Ordinal);
        var id = at < 0 ? rest : rest[..at];
        if (!_repos.TryGetValue(id, out var repo))
        {
            await WriteAsync(response, 404, "{\"error\":\"Repository not found\"}");
            return;
        }
        var siblings = repo.Files.Select(kv =>
        {
            var size = repo.ListedSizeOverride.TryGetValue(kv.Key, out var s) ? s : kv.Value.Length;
            if (repo.Lfs.Contains(kv.Key))
            {
                var sha = repo.ListedSha256Override.TryGetValue(kv.Key, out var h) ? h : Sha256(kv.Value);
                return (object)new Dictionary<string, object>
                {
                    ["rfilename"] = kv.Key,
                    ["size"] = size,
                    ["blobId"] = GitBlobId(Encoding.ASCII.GetBytes("pointer")),
                    ["lfs"] = new Dictionary<string, object> { ["sha256"] = sha, ["size"] = size, ["pointerSize"] = 134 },
                };
            }
            return new Dictionary<string, object> { ["rfilename"] = kv.Key, ["size"] = size, ["blobId"] = GitBlobId(kv.Value) };
        }).ToList();
        var json = JsonSerializer.Serialize(new Dictionary<string, object> { ["id"] = id, ["sha"] = repo.Commit, ["siblings"] = siblings });
        await WriteAsync(response, 200, json);
    }

    private async Task ServeBytesAsync(string path, byte[] data, HttpListenerRequest request, HttpListenerResponse response)
    {
        long start = 0;
        var range = request.Headers["Range"];
        if (!IgnoreRange && range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            start = long.Parse(range["bytes=".Length..^1]);
            if (start >= data.Length)
            {
                response.StatusCode = 416;
                response.Headers["Content-Range"] = $"bytes */{data.Length}";
                response.Close();
                return;
            }
            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {start}-{data.Length - 1}/{data.Length}";
        }
        else
        {
            response.StatusCode = 200;
        }
        response.ContentLength64 = data.Length - start;
        response.ContentType = "application/octet-stream";
        var dropKey = _dropAt.Keys.FirstOrDefault(k => path.EndsWith(k, StringComparison.Ordinal));
        if (dropKey is not null && _dropsLeft.TryGetValue(dropKey, out var left) && left > 0)
        {
            _dropsLeft[dropKey] = left - 1;
            var cut = (int)Math.Min(_dropAt[dropKey], data.Length - start);
            await response.OutputStream.WriteAsync(data.AsMemory((int)start, cut));
            await response.OutputStream.FlushAsync();
            await Task.Delay(300); // let the bytes reach the client before the connection is cut
            response.Abort();
            return;
        }
        await response.OutputStream.WriteAsync(data.AsMemory((int)start));
        response.Close();
    }

    private static async Task WriteAsync(HttpListenerResponse response, int status, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }
}
