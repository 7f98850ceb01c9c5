using Microsoft.Extensions.Configuration;
using BgeVectorDb.Server.Tests.Infrastructure;

namespace BgeVectorDb.Server.Tests;

/// <summary>Start-up failures end quickly, non-zero, with a message the operator can act on.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task No_model_reachable_exits_within_seconds_naming_every_way_to_supply_one()
    {
        using var dir = new TempDirectory();
        var (exitCode, output, elapsed) = await ServerProcess.RunToExitAsync(dir.Sub("data"), new Dictionary<string, string>
        {
            ["Inference:EmbeddingModel"] = "BAAI/bge-small-en-v1.5",
            ["Inference:RerankerModel"] = "none",
            ["Models:ModelsFolder"] = dir.Sub("models"),
            ["Models:CacheFolder"] = dir.Sub("cache"),
            ["Models:HubEndpoint"] = "http://127.0.0.1:9",   // discard port: connection refused
        }, TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, exitCode);
        Assert.True(elapsed < TimeSpan.FromSeconds(30), $"took {elapsed}");
        Assert.Contains("BAAI/bge-small-en-v1.5", output);
        Assert.Contains("Models:ModelsFolder", output);
        Assert.Contains(dir.Sub("cache"), output);
        Assert.Contains("127.0.0.1:9", output);
        Assert.Contains("bgevdb models synth", output);
        Assert.Contains("bgevdb models pull nuget:", output);
    }

    [Fact]
    public async Task Cuda_requested_on_a_cpu_only_runtime_refuses_to_start_with_a_clear_error()
    {
        using var dir = new TempDirectory();
        TestData.WriteTinyModels(dir.Sub("models"));
        var (exitCode, output, _) = await ServerProcess.RunToExitAsync(dir.Sub("data"), new Dictionary<string, string>
        {
            ["Inference:EmbeddingModel"] = TestData.EmbeddingModelId,
            ["Inference:RerankerModel"] = "none",
            ["Inference:ExecutionProvider"] = "cuda",
            ["Models:ModelsFolder"] = dir.Sub("models"),
            ["Models:AllowDownload"] = "false",
        }, TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, exitCode);
        Assert.Contains("CUDA", output);
#if BGE_GPU
        Assert.Contains("libonnxruntime_providers_cuda.so", output);   // why: the provider library's load error
#endif
        Assert.Contains("BgeCpuOnly", output);
    }

    [Fact]
    public async Task Invalid_option_is_reported_at_start()
    {
        using var dir = new TempDirectory();
        var (exitCode, output, _) = await ServerProcess.RunToExitAsync(dir.Sub("data"),
            ServerSettings.NoModels(("Inference:ExecutionProvider", "tpu")), TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, exitCode);
        Assert.Contains("Inference:ExecutionProvider must be auto, cpu or cuda", output);
    }

    [Theory]
    [InlineData("Limits:MaxK", "-1", "Limits:MaxK must be at least 1, got -1")]
    [InlineData("Limits:MaxBatchSize", "0", "Limits:MaxBatchSize must be at least 1, got 0")]
    [InlineData("Limits:MaxK", "20000", "Limits:MaxK (20000) must not exceed Limits:MaxCandidates (10000)")]
    [InlineData("Storage:CheckpointIntervalSeconds", "-5", "Storage:CheckpointIntervalSeconds must be 0 (never on a timer) or more, got -5")]
    [InlineData("Storage:StoreRewriteWalBytes", "0", "Storage:StoreRewriteWalBytes must be at least 1 (bytes), got 0")]
    [InlineData("Storage:CheckpointEveryWrites", "-1", "Storage:CheckpointEveryWrites must be 0 (never on a count) or more, got -1")]
    [InlineData("Storage:CheckpointTimeoutSeconds", "0", "Storage:CheckpointTimeoutSeconds must be at least 1, got 0")]
    [InlineData("Inference:MaxBatchRows", "0", "Inference:MaxBatchRows")]
    [InlineData("Limits:MaxEf", "ten", "Limits:MaxEf")]
    [InlineData("Inference:ExecutionProvider", "gpu", "Inference:ExecutionProvider must be auto, cpu or cuda (case-insensitive), got 'gpu'")]
    public async Task Invalid_option_refuses_to_start_naming_the_config_key(string key, string value, string expected)
    {
        using var dir = new TempDirectory();
        var (exitCode, output, _) = await ServerProcess.RunToExitAsync(dir.Sub("data"), ServerSettings.NoModels((key, value)), TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, exitCode);
        Assert.Contains("invalid configuration", output);
        Assert.Contains(expected, output);
    }

    [Theory]
    [InlineData("CUDA", BgeVectorDb.Core.Inference.ExecutionProviderPreference.Cuda)]
    [InlineData("Cpu", BgeVectorDb.Core.Inference.ExecutionProviderPreference.Cpu)]
    [InlineData("auto", BgeVectorDb.Core.Inference.ExecutionProviderPreference.Auto)]
    public void Execution_provider_binds_case_insensitively(string value, BgeVectorDb.Core.Inference.ExecutionProviderPreference expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Inference:ExecutionProvider"] = value }).Build();
        var bound = configuration.GetSection("Inference").Get<BgeVectorDb.Server.Hosting.InferenceOptions>();
        Assert.Equal(expected, bound?.ExecutionProvider);
    }

    [Fact]
    public async Task Corrupt_catalog_refuses_to_start_naming_the_file()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Sub("data"));
        await File.WriteAllTextAsync(Path.Combine(dir.Sub("data"), "catalog.json"), "BGEVDB-CATALOG 1 0000\n[]");
        var (exitCode, output, _) = await ServerProcess.RunToExitAsync(dir.Sub("data"), ServerSettings.NoModels(), TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, exitCode);
        Assert.Contains("catalog.json: checksum mismatch", output);
    }

    [Theory]
    [InlineData("http://127.0.0.1:0", true, "Server:Tls:CertificatePath is set but Server:Listen 'http://127.0.0.1:0' is plaintext")]
    [InlineData("https://127.0.0.1:0", false, "Server:Listen 'https://127.0.0.1:0' needs a certificate")]
    public async Task Tls_settings_that_contradict_the_listen_address_refuse_to_start(string listen, bool withCertificate, string expected)
    {
        using var dir = new TempDirectory();
        var settings = ServerSettings.NoModels(("Server:Listen", listen));
        if (withCertificate)
        {
            // A real, loadable certificate: before the fix the server started and served plaintext with it ignored.
            using var rsa = System.Security.Cryptography.RSA.Create(2048);
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=bgevectordb-test", rsa,
                System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(dir.Sub("cert.pem"), certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(dir.Sub("key.pem"), rsa.ExportPkcs8PrivateKeyPem());
            settings["Server:Tls:CertificatePath"] = dir.Sub("cert.pem");
            settings["Server:Tls:KeyPath"] = dir.Sub("key.pem");
        }
        var (exitCode, output, _) = await ServerProcess.RunToExitAsync(dir.Sub("data"), settings, TimeSpan.FromSeconds(30));
        Assert.Equal(2, exitCode);
        Assert.Contains(expected, output);
        Assert.DoesNotContain("BgeVectorDb listening on", output);
    }
}
