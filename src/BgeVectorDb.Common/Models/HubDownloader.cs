using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace BgeVectorDb.Common.Models;

/// <summary>
/// Downloads a model's files from the Hugging Face hub into one cache folder: lists the repo
/// (<c>GET {endpoint}/api/models/{id}/revision/{rev}?blobs=true</c>), fetches each needed file from
/// <c>{endpoint}/{id}/resolve/{commit}/{path}</c> into <c>{path}.incomplete</c> (resumed with
/// <c>Range: bytes=N-</c>), checks size and hash, renames it into place, and writes the manifest last.
/// </summary>
internal sealed partial class HubDownloader
{
    /// <summary>Attempts per file; a retry happens only after an attempt that received data (no retry loops
    /// against a hub that cannot be reached).</summary>
    public const int MaxAttemptsPerFile = 3;

    private const string LockFileName = ".download.lock";
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(100);

    private readonly HttpClient _http;
    private readonly ModelOptions _options;
    private readonly ILogger _logger;
    private readonly Uri _endpoint;

    public HubDownloader(HttpClient http, ModelOptions options, ILogger logger)
    {
        _http = http;
        _options = options;
        _logger = logger;
        _endpoint = new Uri(options.HubEndpoint.TrimEnd('/') + "/", UriKind.Absolute);
    }

    /// <summary>The client the downloader expects: short connect timeout, redirects followed by hand (so the
    /// token never leaves the hub's host and X-Linked-* headers are seen), no overall timeout (per-read
    /// timeouts instead).</summary>
    public static HttpClient CreateHttpClient(ModelOptions options) => new(new SocketsHttpHandler
    {
        ConnectTimeout = options.ConnectTimeout,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>URL of the model-info API.</summary>
    public Uri ListingUri(string modelId) =>
        new(_endpoint, $"api/models/{EscapeId(modelId)}/revision/{Uri.EscapeDataString(_options.Revision)}?blobs=true");

    /// <summary>URL of one file at <paramref name="revision"/>.</summary>
    public Uri FileUri(string modelId, string revision, string path) =>
        new(_endpoint, $"{EscapeId(modelId)}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}");

    /// <summary>Lists the repo's files at <see cref="ModelOptions.Revision"/>.</summary>
    public async Task<HubListing> ListAsync(string modelId, CancellationToken cancellationToken)
    {
        var uri = ListingUri(modelId);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DownloadTimeout);
        try
        {
            using var response = await SendAsync(uri, 0, linked: null, timeout.Token).ConfigureAwait(false);
            ThrowOnError(response, $"model '{modelId}' (revision '{_options.Revision}')");
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            return HubListing.Parse(body);
        }
        catch (JsonException e)
        {
            throw new ModelDownloadException(HubFailure.Protocol, $"{uri} did not return model info: {e.Message}", innerException: e);
        }
        catch (Exception e) when (Transport(e, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>
    /// Downloads what <paramref name="descriptor"/> needs into <paramref name="directory"/> and writes its
    /// manifest. Files already in place with a matching hash are kept. Throws
    /// <see cref="ModelDownloadException"/>; a file that fails its size or hash check is deleted.
    /// </summary>
    public async Task<CacheManifest> DownloadAsync(ModelDescriptor descriptor, string directory,
        IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var listing = await ListAsync(descriptor.Id, cancellationToken).ConfigureAwait(false);
        var files = SelectFiles(descriptor, listing);
        Directory.CreateDirectory(directory);
        using var gate = AcquireLock(directory);
        CacheManifest.Delete(directory);
        var revision = listing.Commit ?? _options.Revision;
        var entries = new List<CacheManifestFile>(files.Count);
        for (var i = 0; i < files.Count; i++)
        {
            var sha256 = await DownloadFileAsync(descriptor.Id, revision, files[i], directory, i, files.Count, progress, cancellationToken)
                .ConfigureAwait(false);
            entries.Add(new CacheManifestFile(files[i].Path, new FileInfo(ModelFolder.FullPath(directory, files[i].Path)).Length, sha256));
        }
        var manifest = new CacheManifest(CacheManifest.CurrentFormatVersion, descriptor.Id, _options.Revision, listing.Commit,
            _options.HubEndpoint, DateTimeOffset.UtcNow, entries);
        manifest.Write(directory);
        LogDownloaded(_logger, descriptor.Id, files.Count, entries.Sum(e => e.Size), directory);
        return manifest;
    }

    /// <summary>The first listed candidate of each required file, plus every listed optional file.</summary>
    internal static List<HubFile> SelectFiles(ModelDescriptor descriptor, HubListing listing)
    {
        var chosen = new List<HubFile>();
        foreach (var requirement in descriptor.Required)
        {
            var file = requirement.Candidates.Select(listing.Find).FirstOrDefault(f => f is not null)
                ?? throw new ModelDownloadException(HubFailure.NotFound,
                    $"the hub repo '{descriptor.Id}' has no {requirement} (needed: {string.Join(", ", descriptor.Required)})");
            chosen.Add(file);
        }
        foreach (var path in descriptor.Optional)
        {
            if (listing.Find(path) is { } file && !chosen.Contains(file))
            {
                chosen.Add(file);
            }
        }
        return chosen;
    }

    private async Task<string> DownloadFileAsync(string modelId, string revision, HubFile file, string directory,
        int index, int count, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var final = ModelFolder.FullPath(directory, file.Path);
        var partial = final + ".incomplete";
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);

        if (File.Exists(final) && (file.Sha256 ?? file.GitBlobId) is not null)
        {
            var (sha256, gitSha1) = await HashAsync(final, cancellationToken).ConfigureAwait(false);
            if (Matches(file, new FileInfo(final).Length, sha256, gitSha1) is null)
            {
                progress?.Report(new DownloadProgress(file.Path, new FileInfo(final).Length, file.Size, 0, index, count));
                return sha256;
            }
        }

        var uri = FileUri(modelId, revision, file.Path);
        long? expectedSize = file.Size;
        var expectedSha256 = file.Sha256;
        for (var attempt = 1; ; attempt++)
        {
            long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            if (expectedSize is { } size && have > size)
            {
                File.Delete(partial);
                have = 0;
            }
            if (expectedSize is { } known && have == known && known > 0)
            {
                break; // a previous attempt got everything; verify below
            }
            long received = 0;
            try
            {
                var linked = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                (received, expectedSize) = await TransferAsync(uri, file.Path, partial, have, expectedSize, linked, index, count,
                    progress, cancellationToken).ConfigureAwait(false);
                if (received < 0)
                {
                    if (attempt < MaxAttemptsPerFile)
                    {
                        continue; // 416: the part on disk was dropped, start over
                    }
                    throw new ModelDownloadException(HubFailure.Protocol, $"{uri} keeps refusing the range request");
                }
                if (expectedSha256 is null && linked.TryGetValue("X-Linked-Etag", out var etag) && IsSha256(etag.Trim('"', ' ')))
                {
                    expectedSha256 = etag.Trim('"', ' ').ToLowerInvariant();
                }
                break;
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested
                                      && attempt < MaxAttemptsPerFile && (received > 0 || PartialGrew(partial, have)))
            {
                LogResuming(_logger, file.Path, attempt, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken).ConfigureAwait(false);
            }
            catch (ModelDownloadException e)
            {
                if (e.Failure == HubFailure.Integrity && File.Exists(partial))
                {
                    File.Delete(partial); // never resume from bytes that failed a check
                }
                throw;
            }
            catch (Exception e) when (Transport(e, cancellationToken) is { } mapped)
            {
                throw mapped;
            }
        }

        var length = new FileInfo(partial).Length;
        var (actualSha256, actualGitSha1) = await HashAsync(partial, cancellationToken).ConfigureAwait(false);
        var problem = Matches(file with { Size = expectedSize, Sha256 = expectedSha256 }, length, actualSha256, actualGitSha1);
        if (problem is not null)
        {
            File.Delete(partial);
            throw new ModelDownloadException(HubFailure.Integrity, $"{file.Path} of '{modelId}': {problem}; the partial file was deleted");
        }
        File.Move(partial, final, overwrite: true);
        return actualSha256;
    }

    private static bool PartialGrew(string partial, long had) => File.Exists(partial) && new FileInfo(partial).Length > had;

    /// <summary>One GET of <paramref name="uri"/> appended to <paramref name="partial"/> from byte
    /// <paramref name="have"/>. Returns bytes received (-1: range refused, part dropped) and the (possibly
    /// newly learnt) total size.</summary>
    private async Task<(long Received, long? Total)> TransferAsync(Uri uri, string path, string partial, long have, long? total,
        Dictionary<string, string> linked, int index, int count, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stall.CancelAfter(_options.DownloadTimeout);
        using var response = await SendAsync(uri, have, linked, stall.Token).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
        {
            File.Delete(partial); // the part on disk does not fit this file: start over on the next attempt
            return (-1, total);
        }
        ThrowOnError(response, $"file {path}");

        var append = false;
        if (response.StatusCode == HttpStatusCode.PartialContent)
        {
            var range = response.Content.Headers.ContentRange;
            if (range?.From != have)
            {
                throw new ModelDownloadException(HubFailure.Protocol, $"{uri} answered range {range} to 'bytes={have}-'");
            }
            append = true;
        }
        else
        {
            have = 0; // 200: the whole file again
        }
        var announced = append ? response.Content.Headers.ContentRange?.Length : response.Content.Headers.ContentLength;
        if (announced is null && linked.TryGetValue("X-Linked-Size", out var linkedSize) && long.TryParse(linkedSize, out var ls))
        {
            announced = ls;
        }
        if (total is { } listed && announced is { } sent && listed != sent)
        {
            throw new ModelDownloadException(HubFailure.Integrity, $"size mismatch: the hub lists {listed} bytes for {path}, the server sends {sent}");
        }
        total ??= announced;

        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        long received = 0;
        var buffer = new byte[81920];
        await using var body = await response.Content.ReadAsStreamAsync(stall.Token).ConfigureAwait(false);
        await using var output = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None,
            bufferSize: 1, useAsync: true);
        try
        {
            while (true)
            {
                stall.CancelAfter(_options.DownloadTimeout);
                var n = await body.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                received += n;
                if (total is { } limit && have + received > limit)
                {
                    throw new ModelDownloadException(HubFailure.Integrity, $"size mismatch: the server sends more than the {limit} bytes listed for {path}");
                }
                if (progress is not null && clock.Elapsed - lastReport >= ProgressInterval)
                {
                    lastReport = clock.Elapsed;
                    progress.Report(new DownloadProgress(path, have + received, total, received / Math.Max(clock.Elapsed.TotalSeconds, 1e-3), index, count));
                }
            }
        }
        finally
        {
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        if (total is { } t && have + received < t)
        {
            throw new IOException($"connection closed after {have + received} of {t} bytes of {path}");
        }
        progress?.Report(new DownloadProgress(path, have + received, total ?? have + received,
            received / Math.Max(clock.Elapsed.TotalSeconds, 1e-3), index, count));
        return (received, total);
    }

    /// <summary>GET with redirects followed by hand (at most 5): the token goes only to the hub's own host,
    /// the Range header goes everywhere, X-Linked-* headers of any hop are collected.</summary>
    private async Task<HttpResponseMessage> SendAsync(Uri uri, long rangeStart, Dictionary<string, string>? linked, CancellationToken cancellationToken)
    {
        for (var hop = 0; hop <= 5; hop++)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("bgevectordb", "0.1"));
            if (_options.HubToken is { Length: > 0 } token && SameOrigin(uri, _endpoint))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            if (rangeStart > 0)
            {
                request.Headers.Range = new RangeHeaderValue(rangeStart, null);
            }
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (linked is not null)
            {
                foreach (var name in (string[])["X-Linked-Size", "X-Linked-Etag"])
                {
                    if (!linked.ContainsKey(name) && response.Headers.TryGetValues(name, out var values))
                    {
                        linked[name] = values.First();
                    }
                }
            }
            var status = (int)response.StatusCode;
            if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                response.Dispose();
                continue;
            }
            return response;
        }
        throw new ModelDownloadException(HubFailure.Protocol, $"too many redirects from {uri}");
    }

    private void ThrowOnError(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var status = (int)response.StatusCode;
        var uri = response.RequestMessage?.RequestUri;
        throw status switch
        {
            404 => new ModelDownloadException(HubFailure.NotFound, $"{what} not found on the hub (404 from {uri})", status),
            401 or 403 => new ModelDownloadException(HubFailure.Unauthorized, _options.HubToken is null
                ? $"the hub refused {what} ({status} from {uri}): it does not exist, or it is gated/private and no token is configured ({ModelOptions.SectionName}:{nameof(ModelOptions.HubToken)} or env {ModelOptions.HubTokenEnvironmentVariable})"
                : $"the hub refused {what} ({status} from {uri}) with the configured token: it does not exist or the token has no access", status),
            _ => new ModelDownloadException(HubFailure.Protocol, $"the hub answered {status} {response.ReasonPhrase} for {what} ({uri})", status),
        };
    }

    /// <summary>Maps transport exceptions (not the caller's cancellation) to <see cref="ModelDownloadException"/>.</summary>
    private ModelDownloadException? Transport(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException when !cancellationToken.IsCancellationRequested => new ModelDownloadException(HubFailure.Timeout,
            $"no answer from {_options.HubEndpoint} within {_options.DownloadTimeout.TotalSeconds:0.#} s ({ModelOptions.SectionName}:{nameof(ModelOptions.DownloadTimeout)})", innerException: e),
        HttpRequestException or IOException => new ModelDownloadException(HubFailure.Unreachable,
            $"{_options.HubEndpoint} is unreachable: {e.Message}", innerException: e),
        _ => null,
    };

    /// <summary>Null when size and hashes fit what the hub listed, else the mismatch.</summary>
    private static string? Matches(HubFile expected, long length, string sha256, string gitSha1)
    {
        if (expected.Size is { } size && length != size)
        {
            return $"size mismatch: expected {size} bytes, got {length}";
        }
        if (expected.Sha256 is { } want && !want.Equals(sha256, StringComparison.OrdinalIgnoreCase))
        {
            return $"sha256 mismatch: expected {want}, got {sha256}";
        }
        if (expected.Sha256 is null && expected.GitBlobId is { } blob && !blob.Equals(gitSha1, StringComparison.OrdinalIgnoreCase))
        {
            return $"git blob id mismatch: expected {blob}, got {gitSha1}";
        }
        return null;
    }

    /// <summary>SHA-256 of the content and git blob SHA-1 (<c>"blob {size}\0" + content</c>), in one pass.</summary>
    internal static async Task<(string Sha256, string GitSha1)> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
        var buffer = new byte[1 << 16];
        int n;
        while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            sha256.AppendData(buffer, 0, n);
            sha1.AppendData(buffer, 0, n);
        }
        return (Convert.ToHexStringLower(sha256.GetHashAndReset()), Convert.ToHexStringLower(sha1.GetHashAndReset()));
    }

    private static FileStream AcquireLock(string directory)
    {
        try
        {
            return new FileStream(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None,
                1, FileOptions.DeleteOnClose);
        }
        catch (IOException e)
        {
            throw new ModelDownloadException(HubFailure.Busy, $"another process is downloading into {directory}", innerException: e);
        }
    }

    private static bool IsSha256(string value) => value.Length == 64 && value.All(Uri.IsHexDigit);

    private static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && a.Port == b.Port && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase);

    private static string EscapeId(string modelId) => string.Join('/', modelId.Split('/').Select(Uri.EscapeDataString));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Download of {File} interrupted (attempt {Attempt}): {Reason}; resuming")]
    private static partial void LogResuming(ILogger logger, string file, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Downloaded {ModelId}: {FileCount} files, {Bytes} bytes, into {Directory}")]
    private static partial void LogDownloaded(ILogger logger, string modelId, int fileCount, long bytes, string directory);
}
