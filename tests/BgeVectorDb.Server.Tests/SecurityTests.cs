using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace BgeVectorDb.Server.Tests;

/// <summary>API keys and TLS on a real server.</summary>
public sealed class SecurityTests
{
    private const string AdminKey = "admin-key-0123456789abcdef";
    private const string WriteKey = "write-key-0123456789abcdef";
    private const string ReadKey = "read-key-0123456789abcdef";

    private static CallOptions Key(string key) => new(new Metadata { { "x-api-key", key } });

    [Fact]
    public async Task Keys_and_roles_gate_every_rpc_but_health()
    {
        using var dir = new TempDirectory();
        var settings = ServerSettings.NoModels();
        settings["Auth:Keys:0:Key"] = AdminKey;
        settings["Auth:Keys:0:Role"] = "Admin";
        settings["Auth:Keys:1:Key"] = WriteKey;
        settings["Auth:Keys:1:Role"] = "Write";
        settings["Auth:Keys:2:Key"] = ReadKey;
        settings["Auth:Keys:2:Role"] = "Read";
        settings["Auth:Keys:2:Name"] = "reader";
        await using var server = await ServerProcess.StartAsync(dir.Sub("data"), settings);
        var collections = new Collections.CollectionsClient(server.Channel);
        var admin = new Admin.AdminClient(server.Channel);
        var create = new CreateCollectionRequest { Name = "c", Config = new CollectionConfig { EmbeddingModel = "none", Dimension = 4 } };

        // Health stays open.
        var health = await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        await RpcAssert.FailsAsync(StatusCode.Unauthenticated, async () => await collections.ListCollectionsAsync(new ListCollectionsRequest()));
        await RpcAssert.FailsAsync(StatusCode.Unauthenticated, async () => await collections.ListCollectionsAsync(new ListCollectionsRequest(), Key("wrong-key-0123456789abcdef")));
        var denied = await RpcAssert.FailsAsync(StatusCode.PermissionDenied, async () => await collections.CreateCollectionAsync(create, Key(ReadKey)));
        Assert.Contains("reader", denied.Status.Detail);

        Assert.Equal("c", (await collections.CreateCollectionAsync(create, Key(WriteKey))).Name);
        Assert.Single((await collections.ListCollectionsAsync(new ListCollectionsRequest(), Key(ReadKey))).Collections);
        var bearer = new CallOptions(new Metadata { { "authorization", "Bearer " + ReadKey } });
        Assert.Single((await collections.ListCollectionsAsync(new ListCollectionsRequest(), bearer)).Collections);
        await RpcAssert.FailsAsync(StatusCode.PermissionDenied, async () =>
            await new Documents.DocumentsClient(server.Channel).DeleteDocumentsAsync(new DeleteDocumentsRequest { Collection = "c", Ids = { "x" } }, Key(ReadKey)));
        await RpcAssert.FailsAsync(StatusCode.PermissionDenied, async () => await admin.CheckpointAsync(new CheckpointRequest(), Key(WriteKey)));
        Assert.Equal(["c"], (await admin.CheckpointAsync(new CheckpointRequest(), Key(AdminKey))).Collections);
        Assert.True((await collections.DeleteCollectionAsync(new DeleteCollectionRequest { Name = "c" }, Key(AdminKey))).Deleted);

        Assert.DoesNotContain(AdminKey, server.Output);
        Assert.DoesNotContain("wrong-key-0123456789abcdef", server.Output);

        // Rejections are counted by status (the metrics interceptor runs before auth); the endpoint needs no key.
        var scrape = await Scrape.FromAsync(server.MetricsAddress);
        Assert.Equal(2, scrape.Sum("bgevdb_requests_total", ("rpc", "bgevectordb.v1.Collections/ListCollections"), ("code", "UNAUTHENTICATED")));
        Assert.Equal(1, scrape.Sum("bgevdb_requests_total", ("rpc", "bgevectordb.v1.Collections/CreateCollection"), ("code", "PERMISSION_DENIED")));
        Assert.Equal(1, scrape.Sum("bgevdb_requests_total", ("rpc", "bgevectordb.v1.Admin/Checkpoint"), ("code", "OK")));
        Assert.DoesNotContain(ReadKey, scrape.Text);
    }

    [Fact]
    public async Task Short_keys_are_refused_at_start()
    {
        using var dir = new TempDirectory();
        var settings = ServerSettings.NoModels();
        settings["Auth:Keys:0:Key"] = "short";
        var (exitCode, output, _) = await ServerProcess.RunToExitAsync(dir.Sub("data"), settings, TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, exitCode);
        Assert.Contains("Auth:Keys:0:Key must be at least 16 characters", output);
        Assert.DoesNotContain("short\n", output);
    }

    [Fact]
    public async Task Tls_round_trip_with_a_self_signed_certificate()
    {
        using var dir = new TempDirectory();
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=bgevectordb-test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(dir.Sub("cert.pem"), certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(dir.Sub("key.pem"), rsa.ExportPkcs8PrivateKeyPem());

        var settings = ServerSettings.NoModels();
        settings["Server:Listen"] = "https://127.0.0.1:0";
        settings["Server:Tls:CertificatePath"] = dir.Sub("cert.pem");
        settings["Server:Tls:KeyPath"] = dir.Sub("key.pem");
        var seen = "";
        await using var server = await ServerProcess.StartAsync(dir.Sub("data"), settings, channelFactory: address =>
            GrpcChannel.ForAddress(address, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler
                {
                    SslOptions =
                    {
                        // Trust exactly this self-signed certificate.
                        RemoteCertificateValidationCallback = (_, cert, _, _) =>
                        {
                            seen = cert?.GetCertHashString() ?? "";
                            return cert is not null && cert.GetCertHashString() == certificate.GetCertHashString();
                        },
                    },
                },
            }));
        Assert.StartsWith("https://", server.Address);
        var info = await new Admin.AdminClient(server.Channel).GetInfoAsync(new GetInfoRequest());
        Assert.False(string.IsNullOrEmpty(info.Version));
        Assert.Equal(certificate.GetCertHashString(), seen);

        // A plaintext client cannot talk to the TLS port.
        using var plain = GrpcChannel.ForAddress(server.Address.Replace("https://", "http://"));
        await Assert.ThrowsAsync<RpcException>(async () => await new Admin.AdminClient(plain).GetInfoAsync(new GetInfoRequest()));
    }
}
