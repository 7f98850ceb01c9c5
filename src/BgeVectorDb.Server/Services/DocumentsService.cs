using BgeVectorDb.Core.Collections;
using BgeVectorDb.Server.Mapping;
using Grpc.Core;
using V1 = BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Server.Services;

internal sealed class DocumentsService(CollectionCatalog catalog) : V1.Documents.DocumentsBase
{
    public override Task<V1.UpsertResponse> Upsert(V1.UpsertRequest request, ServerCallContext context) =>
        UpsertOne(request, context.CancellationToken);

    /// <summary>Batches are applied in order; each ack is sent once its batch is durable. The first
    /// rejected batch ends the call with its error (earlier acked batches stay written).</summary>
    public override async Task UpsertStream(IAsyncStreamReader<V1.UpsertRequest> requestStream, IServerStreamWriter<V1.UpsertResponse> responseStream,
        ServerCallContext context)
    {
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(await UpsertOne(request, context.CancellationToken));
        }
    }

    public override Task<V1.GetDocumentsResponse> GetDocuments(V1.GetDocumentsRequest request, ServerCallContext context)
    {
        var fields = ProtoMapper.ToCore(request.Fields);
        var (found, missing) = catalog.Get(request.Collection).Get(request.Ids, fields);
        var response = new V1.GetDocumentsResponse();
        response.Documents.AddRange(found.Select(d => ProtoMapper.ToProto(d, fields)));
        response.MissingIds.AddRange(missing);
        return Task.FromResult(response);
    }

    public override async Task<V1.DeleteDocumentsResponse> DeleteDocuments(V1.DeleteDocumentsRequest request, ServerCallContext context)
    {
        var result = await catalog.Get(request.Collection).DeleteAsync(request.Ids, context.CancellationToken);
        return new V1.DeleteDocumentsResponse { Deleted = (uint)result.Deleted, WalPosition = (ulong)result.WalPosition };
    }

    private async Task<V1.UpsertResponse> UpsertOne(V1.UpsertRequest request, CancellationToken cancellationToken)
    {
        var collection = catalog.Get(request.Collection);
        var result = await collection.UpsertAsync(ProtoMapper.ToCore(request.Documents), cancellationToken);
        return new V1.UpsertResponse
        {
            BatchId = request.BatchId,
            Upserted = (uint)result.Upserted,
            Replaced = (uint)result.Replaced,
            WalPosition = (ulong)result.WalPosition,
        };
    }
}
