using System.Diagnostics;
using BgeVectorDb.Protos.V1;
using BgeVectorDb.Server.Tests.Infrastructure;
using Grpc.Core;
using Grpc.Health.V1;
using Xunit.Abstractions;

namespace BgeVectorDb.Server.Tests;

/// <summary>A server whose data folder is a small tmpfs that fills up. Needs root (mount); without it the test
/// writes why and passes without checking anything.</summary>
public sealed class DiskFullServerTests(ITestOutputHelper output) : IDisposable
{
    private readonly TmpfsMount _mount = new("bgevdb-diskfull-server");

    public void Dispose() => _mount.Dispose();

    private static async Task<HealthCheckResponse.Types.ServingStatus> WritesHealth(ServerProcess server) =>
        (await new Health.HealthClient(server.Channel).CheckAsync(new HealthCheckRequest { Service = "bgevectordb.v1.Documents" })).Status;

    [Fact]
    public async Task Full_disk_gives_resource_exhausted_and_not_serving_then_writes_resume_shutdown_is_prompt_and_nothing_acked_is_lost()
    {
        var mount = _mount.Path;
        if (!_mount.TryMount("16m", out var why))
        {
            output.WriteLine($"SKIPPED: cannot mount a tmpfs ({why}); run as root to exercise a full disk");
            return;
        }
        var data = Path.Combine(mount, "data");
        var acked = new List<string>();
        var server = await ServerProcess.StartAsync(data, StorageServerTests.NoModels);
        try
        {
            await StorageServerTests.CreateAsync(new Collections.CollectionsClient(server.Channel), "full");
            var documents = new Documents.DocumentsClient(server.Channel);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await WritesHealth(server));
            var filler = Path.Combine(mount, "filler");
            await File.WriteAllBytesAsync(filler, new byte[Math.Max(0, new DriveInfo(mount).AvailableFreeSpace - (2 << 20))]);
            RpcException? full = null;
            var pad = new string('y', 4000);
            for (var b = 0; b < 400 && full is null; b++)
            {
                var batch = StorageServerTests.Batch("full", b * 20, 20);
                foreach (var d in batch.Documents) d.Text += pad;
                try
                {
                    await documents.UpsertAsync(batch);
                    acked.AddRange(batch.Documents.Select(d => d.Id));
                }
                catch (RpcException ex)
                {
                    full = ex;
                }
            }
            Assert.NotNull(full);
            Assert.True(full.StatusCode == StatusCode.ResourceExhausted, full.Status.ToString());
            Assert.Contains("disk is full", full.Status.Detail, StringComparison.Ordinal);
            Assert.Contains(data, full.Status.Detail, StringComparison.Ordinal);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (await WritesHealth(server) != HealthCheckResponse.Types.ServingStatus.NotServing && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, await WritesHealth(server));

            File.Delete(filler);
            deadline = DateTime.UtcNow.AddSeconds(20);
            while (await WritesHealth(server) != HealthCheckResponse.Types.ServingStatus.Serving && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await WritesHealth(server));
            var after = StorageServerTests.Batch("full", 50_000, 20);
            await documents.UpsertAsync(after);
            acked.AddRange(after.Documents.Select(d => d.Id));

            // Full again, then SIGTERM: the server still shuts down within its timeout.
            await File.WriteAllBytesAsync(filler, new byte[Math.Max(0, new DriveInfo(mount).AvailableFreeSpace - (1 << 20))]);
            try
            {
                for (var b = 0; b < 100; b++)
                {
                    var batch = StorageServerTests.Batch("full", 60_000 + b * 20, 20);
                    foreach (var d in batch.Documents) d.Text += pad;
                    await documents.UpsertAsync(batch);
                    acked.AddRange(batch.Documents.Select(d => d.Id));
                }
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
            {
            }
            var stopped = Stopwatch.StartNew();
            Assert.Equal(0, await server.StopAsync(TimeSpan.FromSeconds(40)));
            Assert.True(stopped.Elapsed < TimeSpan.FromSeconds(35), $"shutdown took {stopped.Elapsed}");
        }
        finally
        {
            await server.DisposeAsync();
        }
        File.Delete(Path.Combine(mount, "filler"));
        await using var restarted = await ServerProcess.StartAsync(data, StorageServerTests.NoModels);
        var get = new GetDocumentsRequest { Collection = "full" };
        get.Ids.AddRange(acked);
        var got = await new Documents.DocumentsClient(restarted.Channel).GetDocumentsAsync(get);
        Assert.Empty(got.MissingIds);
        Assert.Equal(acked.Count, got.Documents.Count);
    }
}
