using System.Text;
using BgeVectorDb.Common.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Tests.Models;

public sealed class HubDownloaderTests : IDisposable
{
    private readonly ModelTestScope _scope = new();

    public void Dispose() => _scope.Dispose();

    [Fact]
    public void Listing_ParsesHubModelInfo_LfsSizeAndShaWin_BlobIdOnlyForPlainFiles()
    {
        const string json = """
            {"_id":"x","id":"BAAI/bge-small-en-v1.5","sha":"5c38ec7c405ec4b44b94cc5a9bb96e735b38267a",
             "lastModified":"2024-02-22T03:36:23.000Z","tags":["onnx"],"cardData":{"license":"mit"},
             "siblings":[
               {"rfilename":"config.json","blobId":"AB12ab12ab12ab12ab12ab12ab12ab12ab12ab12","size":743},
               {"rfilename":"onnx/model.onnx","blobId":"ffffffffffffffffffffffffffffffffffffffff","size":133093490,
                "lfs":{"sha256":"828E1496D7FABB79CFA4DCD84FA38625C0D3D21DA474A00F08DB0F559940CF35","size":133093490,"pointerSize":135}},
               {"rfilename":"README.md"},
               {"size":3}
             ]}
            """;
        var listing = HubListing.Parse(new MemoryStream(Encoding.UTF8.GetBytes(json)));

        Assert.Equal("5c38ec7c405ec4b44b94cc5a9bb96e735b38267a", listing.Commit);
        Assert.Equal(3, listing.Files.Count);
        Assert.Equal(new HubFile("config.json", 743, null, "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"), listing.Find("config.json"));
        Assert.Equal(new HubFile("onnx/model.onnx", 133093490, "828e1496d7fabb79cfa4dcd84fa38625c0d3d21da474a00f08db0f559940cf35", null),
            listing.Find("onnx/model.onnx"));
        Assert.Equal(new HubFile("README.md", null, null, null), listing.Find("README.md"));
    }

    [Fact]
    public async Task GitBlobId_IsComputedAsGitDoes()
    {
        var path = Path.Combine(_scope.Root, "hello.txt");
        await File.WriteAllTextAsync(path, "hello\n");
        var (sha256, gitSha1) = await HubDownloader.HashAsync(path, CancellationToken.None);
        Assert.Equal("ce013625030ba8dba906f756967f9e9ca394464a", gitSha1); // `git hash-object` of "hello\n"
        Assert.Equal("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", sha256);
    }

    [Fact]
    public async Task ServerIgnoringRange_RestartsTheFileFromZero_AndStillMatches()
    {
        var repo = _scope.AddBertRepo();
        _scope.Hub.IgnoreRange = true;
        var options = _scope.Options();
        var dir = Path.Combine(_scope.Cache, "BAAI--bge-small-en-v1.5");
        Directory.CreateDirectory(Path.Combine(dir, "onnx"));
        await File.WriteAllBytesAsync(Path.Combine(dir, "onnx", "model.onnx.incomplete"), repo.Files["onnx/model.onnx"][..5000]);

        using var http = HubDownloader.CreateHttpClient(options);
        var downloader = new HubDownloader(http, options, NullLogger.Instance);
        ModelCatalog.TryGet(ModelTestScope.SmallEn, out var descriptor);
        var manifest = await downloader.DownloadAsync(descriptor!, dir, null, CancellationToken.None);

        Assert.Contains(_scope.Hub.Requests, r => r.Range == "bytes=5000-");
        Assert.Equal(repo.Files["onnx/model.onnx"], await File.ReadAllBytesAsync(Path.Combine(dir, "onnx", "model.onnx")));
        Assert.Equal(["config.json", "onnx/model.onnx", "vocab.txt", "tokenizer_config.json", "tokenizer.json"],
            manifest.Files.Select(f => f.Path));
    }

    [Fact]
    public async Task FilesAlreadyInPlaceWithMatchingHash_AreNotDownloadedAgain()
    {
        var repo = _scope.AddBertRepo();
        var options = _scope.Options();
        var dir = Path.Combine(_scope.Cache, "BAAI--bge-small-en-v1.5");
        ModelTestScope.WriteFiles(dir, new Dictionary<string, byte[]>
        {
            ["onnx/model.onnx"] = repo.Files["onnx/model.onnx"],
            ["vocab.txt"] = Encoding.UTF8.GetBytes("stale vocab"), // wrong content: fetched again
        });

        using var http = HubDownloader.CreateHttpClient(options);
        ModelCatalog.TryGet(ModelTestScope.SmallEn, out var descriptor);
        await new HubDownloader(http, options, NullLogger.Instance).DownloadAsync(descriptor!, dir, null, CancellationToken.None);

        Assert.DoesNotContain(_scope.Hub.Requests, r => r.Path.EndsWith("onnx/model.onnx", StringComparison.Ordinal));
        Assert.Contains(_scope.Hub.Requests, r => r.Path.EndsWith("/vocab.txt", StringComparison.Ordinal));
        Assert.Equal(repo.Files["vocab.txt"], await File.ReadAllBytesAsync(Path.Combine(dir, "vocab.txt")));
    }

    [Fact]
    public async Task RepoWithoutTheOnnxExport_FailsNamingTheMissingFile()
    {
        var repo = _scope.AddBertRepo();
        repo.Files.Remove("onnx/model.onnx");
        var options = _scope.Options();
        using var http = HubDownloader.CreateHttpClient(options);
        ModelCatalog.TryGet(ModelTestScope.SmallEn, out var descriptor);

        var e = await Assert.ThrowsAsync<ModelDownloadException>(() =>
            new HubDownloader(http, options, NullLogger.Instance).DownloadAsync(descriptor!, Path.Combine(_scope.Cache, "x"), null, CancellationToken.None));

        Assert.Equal(HubFailure.NotFound, e.Failure);
        Assert.Contains("has no onnx/model.onnx or model.onnx", e.Message);
    }
}

public sealed class DownloadCancellationTests : IDisposable
{
    private readonly ModelTestScope _scope = new();

    public void Dispose() => _scope.Dispose();

    private sealed class CancelAfterFirstFile(CancellationTokenSource cts) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value)
        {
            if (value.FileIndex == 0 && value.BytesDone == value.TotalBytes)
            {
                cts.Cancel();
            }
        }
    }

    [Fact]
    public async Task CancelledDownload_LeavesNoManifest_AndTheNextRunDoesNotRefetchReceivedFiles()
    {
        var repo = _scope.AddBertRepo();
        using var resolver = new ModelResolver(_scope.Options());
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            resolver.ResolveAsync(ModelTestScope.SmallEn, new CancelAfterFirstFile(cts), cts.Token));

        var dir = resolver.GetCacheDirectory(ModelTestScope.SmallEn);
        Assert.False(File.Exists(Path.Combine(dir, ".bgevdb-manifest.json")));
        // config.json was fully received: it is in place, or complete in its .incomplete file (cancelled before the check).
        var config = Path.Combine(dir, "config.json");
        Assert.Equal(repo.Files["config.json"], await File.ReadAllBytesAsync(File.Exists(config) ? config : config + ".incomplete"));
        var configGets = _scope.Hub.Requests.Count(r => r.Path.EndsWith("/config.json", StringComparison.Ordinal));

        var model = await resolver.ResolveAsync(ModelTestScope.SmallEn);

        Assert.Equal(ModelSource.Hub, model.Source);
        Assert.Equal(configGets, _scope.Hub.Requests.Count(r => r.Path.EndsWith("/config.json", StringComparison.Ordinal)));
        Assert.Equal(repo.Files["onnx/model.onnx"], await File.ReadAllBytesAsync(model.OnnxPath));
    }
}
