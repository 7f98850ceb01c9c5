using System.Collections.Concurrent;
using BgeVectorDb.Protos.V1;
using Grpc.Core;

namespace BgeVectorDb.Cli.Ingest;

/// <summary>Outcome of a streamed ingest.</summary>
/// <param name="Documents">Documents acknowledged (durable) by the server.</param>
/// <param name="Replaced">Of those, how many replaced an existing id.</param>
/// <param name="Batches">Batches acknowledged.</param>
internal sealed record IngestResult(long Documents, long Replaced, long Batches);

/// <summary>The server ended the upload with an error status. <see cref="Batch"/> is the oldest batch not
/// acknowledged (the server handles batches in order, so the one it rejected), null when none was pending.</summary>
internal sealed class IngestRejectedException(RpcException status, UpsertStreamer.BatchLines? batch, long acknowledged)
    : Exception(status.Message, status)
{
    public RpcException Status { get; } = status;

    public UpsertStreamer.BatchLines? Batch { get; } = batch;

    /// <summary>Documents acknowledged (stored) before the error.</summary>
    public long Acknowledged { get; } = acknowledged;
}

/// <summary>
/// Sends documents over one <c>Documents.UpsertStream</c> call in batches of <c>batchSize</c>, with at most
/// <c>window</c> batches sent and not yet acknowledged. Acks are matched to batches by batch_id (1, 2, ...).
/// A bad input line stops reading: the batch it belongs to is not sent, batches already sent are still
/// awaited, then the <see cref="SourceFormatException"/> is thrown. A server error ends the call and is
/// thrown as the <see cref="RpcException"/> the server sent.
/// </summary>
internal sealed class UpsertStreamer
{
    /// <summary>A sent batch: its id, size and the input lines it came from.</summary>
    internal sealed record BatchLines(ulong BatchId, int Count, long FirstLine, long LastLine);

    private readonly Documents.DocumentsClient _client;
    private readonly string _collection;
    private readonly int _batchSize;
    private readonly int _window;

    /// <param name="client">Documents client.</param>
    /// <param name="collection">Target collection.</param>
    /// <param name="batchSize">Documents per batch (default 64 on the command line).</param>
    /// <param name="window">Batches in flight (default 4).</param>
    public UpsertStreamer(Documents.DocumentsClient client, string collection, int batchSize, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        _client = client;
        _collection = collection;
        _batchSize = batchSize;
        _window = window;
    }

    /// <summary>Streams <paramref name="documents"/>; <paramref name="onAcked"/> gets the size of each acked batch.</summary>
    public async Task<IngestResult> RunAsync(IEnumerable<SourceDocument> documents, Action<int> onAcked, CancellationToken cancellationToken)
    {
        using var callCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var call = _client.UpsertStream(cancellationToken: callCancel.Token);
        using var slots = new SemaphoreSlim(_window, _window);
        var inFlight = new ConcurrentDictionary<ulong, BatchLines>();
        long acked = 0, replaced = 0, batches = 0;

        var reader = Task.Run(async () =>
        {
            while (await call.ResponseStream.MoveNext(callCancel.Token).ConfigureAwait(false))
            {
                var ack = call.ResponseStream.Current;
                if (!inFlight.TryRemove(ack.BatchId, out var sent))
                {
                    throw new CliException($"server acknowledged unknown batch {ack.BatchId}");
                }
                var size = sent.Count;
                acked += size;
                replaced += ack.Replaced;
                batches++;
                onAcked(size);
                slots.Release();
            }
        }, CancellationToken.None);

        Exception? stopReason = null;
        var open = true;
        try
        {
            ulong nextId = 1;
            var batch = NewBatch(nextId);
            long firstLine = 0, lastLine = 0;
            foreach (var source in documents)
            {
                if (batch.Documents.Count == 0)
                {
                    firstLine = source.Line;
                }
                lastLine = source.Line;
                batch.Documents.Add(source.Document);
                if (batch.Documents.Count == _batchSize)
                {
                    open = await SendAsync(call, batch, new BatchLines(batch.BatchId, batch.Documents.Count, firstLine, lastLine),
                        slots, inFlight, reader, callCancel.Token).ConfigureAwait(false);
                    if (!open)
                    {
                        break;
                    }
                    batch = NewBatch(++nextId);
                }
            }
            if (open && batch.Documents.Count > 0)
            {
                open = await SendAsync(call, batch, new BatchLines(batch.BatchId, batch.Documents.Count, firstLine, lastLine),
                    slots, inFlight, reader, callCancel.Token).ConfigureAwait(false);
            }
        }
        catch (SourceFormatException e)
        {
            stopReason = e;
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            // Writing failed because the call ended; the reader has the server's status.
            stopReason = e;
        }

        if (!reader.IsCompleted)
        {
            try
            {
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or InvalidOperationException)
            {
                stopReason ??= e;
            }
        }

        try
        {
            await reader.ConfigureAwait(false);
        }
        catch (RpcException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (Exception e) when (stopReason is SourceFormatException && e is RpcException or CliException)
        {
            // The bad input line is the cause; the call failing afterwards is a consequence (e.g. nothing sent yet).
        }
        catch (RpcException e)
        {
            var pending = inFlight.Values.OrderBy(b => b.BatchId).FirstOrDefault();
            throw new IngestRejectedException(e, pending, acked);
        }

        if (stopReason is not null)
        {
            throw stopReason is SourceFormatException ? stopReason : new CliException(
                $"the upload stream ended early: {stopReason.Message}");
        }
        if (!open)
        {
            throw new CliException("the server closed the upload stream before all batches were sent");
        }
        if (!inFlight.IsEmpty)
        {
            throw new CliException($"the server closed the stream with {inFlight.Count} batch(es) not acknowledged");
        }
        return new IngestResult(acked, replaced, batches);
    }

    private UpsertRequest NewBatch(ulong id) => new() { Collection = _collection, BatchId = id };

    /// <summary>Waits for a free slot (or the end of the reader), then writes. False when the call is over.</summary>
    private static async Task<bool> SendAsync(
        AsyncDuplexStreamingCall<UpsertRequest, UpsertResponse> call, UpsertRequest batch, BatchLines lines, SemaphoreSlim slots,
        ConcurrentDictionary<ulong, BatchLines> inFlight, Task reader, CancellationToken cancellationToken)
    {
        var slot = slots.WaitAsync(cancellationToken);
        if (await Task.WhenAny(slot, reader).ConfigureAwait(false) != slot)
        {
            return false;
        }
        await slot.ConfigureAwait(false);
        inFlight[batch.BatchId] = lines;
        await call.RequestStream.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        return true;
    }
}
