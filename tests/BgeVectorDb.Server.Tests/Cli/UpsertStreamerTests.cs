using System.Net;
using System.Threading.Channels;
using BgeVectorDb.Cli;
using BgeVectorDb.Cli.Ingest;
using BgeVectorDb.Protos.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BgeVectorDb.Server.Tests.Cli;

/// <summary>
/// The streaming window of <see cref="UpsertStreamer"/> against a real gRPC server on loopback whose
/// Documents service acknowledges each batch after a delay and records how many batches were outstanding
/// (received, not yet acknowledged). This observes the client's pipelining, which the real server
/// (acking as fast as it stores) cannot show.
/// </summary>
public sealed class UpsertStreamerTests : IAsyncLifetime
{
    private readonly SlowAckDocuments _service = new();
    private WebApplication _app = null!;
    private GrpcChannel _channel = null!;
    private string _address = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(_service);
        _app = builder.Build();
        _app.MapGrpcService<SlowAckDocuments>();
        await _app.StartAsync();
        _address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _channel = GrpcChannel.ForAddress(_address);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _app.DisposeAsync();
    }

    private static IEnumerable<SourceDocument> Docs(int count) =>
        Enumerable.Range(1, count).Select(i => new SourceDocument(new Document { Id = $"d{i}", Text = $"t{i}" }, i));

    [Fact]
    public async Task Keeps_exactly_window_batches_in_flight_and_matches_every_ack()
    {
        var streamer = new UpsertStreamer(new Documents.DocumentsClient(_channel), "c", batchSize: 5, window: 3);
        long acked = 0;
        var result = await streamer.RunAsync(Docs(52), n => Interlocked.Add(ref acked, n), CancellationToken.None);

        Assert.Equal(52, result.Documents);
        Assert.Equal(11, result.Batches);
        Assert.Equal(52, acked);
        Assert.Equal(Enumerable.Range(1, 11).Select(i => (ulong)i), _service.Received);
        Assert.Equal([5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 2], _service.Sizes);
        Assert.Equal(3, _service.MaxOutstanding);
        Assert.All(_service.Collections, c => Assert.Equal("c", c));
    }

    [Fact]
    public async Task Window_of_one_sends_the_next_batch_only_after_the_ack()
    {
        var streamer = new UpsertStreamer(new Documents.DocumentsClient(_channel), "c", batchSize: 4, window: 1);
        var result = await streamer.RunAsync(Docs(12), _ => { }, CancellationToken.None);
        Assert.Equal(3, result.Batches);
        Assert.Equal(1, _service.MaxOutstanding);
    }

    [Fact]
    public async Task An_ack_for_a_batch_never_sent_is_an_error()
    {
        _service.AckIdOffset = 1000;
        var streamer = new UpsertStreamer(new Documents.DocumentsClient(_channel), "c", batchSize: 5, window: 2);
        var e = await Assert.ThrowsAsync<CliException>(() => streamer.RunAsync(Docs(20), _ => { }, CancellationToken.None));
        Assert.Equal("server acknowledged unknown batch 1001", e.Message);
    }

    [Fact]
    public async Task Cli_ingest_sends_the_api_key_header_and_prints_the_summary()
    {
        using var dir = new TempDirectory("bgevdb-cli");
        var file = dir.Sub("docs.jsonl");
        File.WriteAllLines(file, Enumerable.Range(1, 7).Select(i => $"{{\"id\":\"d{i}\",\"text\":\"t{i}\"}}"));

        var run = await CliRun.RunAsync("ingest", "c", "--jsonl", file, "--batch-size", "3", "--api-key", "s3cret", "--server", _address);

        Assert.True(run.ExitCode == CliApp.ExitOk, run.ToString());
        Assert.StartsWith("ingested 7 docs in ", run.Stdout);
        Assert.Equal(["s3cret"], _service.ApiKeys);
        Assert.Equal([3, 3, 1], _service.Sizes);
        Assert.Contains("[########################] 7/7 100%", run.Stderr);
    }

    /// <summary>Acknowledges batches in order, each 15 ms after the previous one.</summary>
    private sealed class SlowAckDocuments : Documents.DocumentsBase
    {
        private int _outstanding;

        public List<ulong> Received { get; } = [];

        public List<string?> ApiKeys { get; } = [];

        public List<int> Sizes { get; } = [];

        public List<string> Collections { get; } = [];

        public int MaxOutstanding { get; private set; }

        public ulong AckIdOffset { get; set; }

        public override async Task UpsertStream(IAsyncStreamReader<UpsertRequest> requestStream,
            IServerStreamWriter<UpsertResponse> responseStream, ServerCallContext context)
        {
            ApiKeys.Add(context.RequestHeaders.GetValue("x-api-key"));
            var pending = Channel.CreateUnbounded<UpsertRequest>();
            var acker = Task.Run(async () =>
            {
                await foreach (var request in pending.Reader.ReadAllAsync())
                {
                    await Task.Delay(15);
                    Interlocked.Decrement(ref _outstanding);
                    await responseStream.WriteAsync(new UpsertResponse
                    {
                        BatchId = request.BatchId + AckIdOffset,
                        Upserted = (uint)request.Documents.Count,
                    });
                }
            });
            while (await requestStream.MoveNext(context.CancellationToken))
            {
                var request = requestStream.Current;
                Received.Add(request.BatchId);
                Sizes.Add(request.Documents.Count);
                Collections.Add(request.Collection);
                MaxOutstanding = Math.Max(MaxOutstanding, Interlocked.Increment(ref _outstanding));
                pending.Writer.TryWrite(request);
            }
            pending.Writer.Complete();
            await acker;
        }
    }
}
