using BgeVectorDb.Core.Collections;
using BgeVectorDb.Server.Mapping;
using Grpc.Core;
using V1 = BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Server.Services;

internal sealed class CollectionsService(CollectionCatalog catalog) : V1.Collections.CollectionsBase
{
    public override async Task<V1.CollectionInfo> CreateCollection(V1.CreateCollectionRequest request, ServerCallContext context) =>
        ProtoMapper.ToProto(await catalog.CreateAsync(ProtoMapper.ToCore(request), context.CancellationToken));

    public override Task<V1.CollectionInfo> GetCollection(V1.GetCollectionRequest request, ServerCallContext context) =>
        Task.FromResult(ProtoMapper.ToProto(catalog.Get(request.Name)));

    public override Task<V1.ListCollectionsResponse> ListCollections(V1.ListCollectionsRequest request, ServerCallContext context)
    {
        var response = new V1.ListCollectionsResponse();
        response.Collections.AddRange(catalog.List().Select(ProtoMapper.ToProto));
        return Task.FromResult(response);
    }

    public override async Task<V1.DeleteCollectionResponse> DeleteCollection(V1.DeleteCollectionRequest request, ServerCallContext context)
    {
        await catalog.DeleteAsync(request.Name);
        return new V1.DeleteCollectionResponse { Deleted = true };
    }

    public override Task<V1.CollectionStats> GetCollectionStats(V1.GetCollectionStatsRequest request, ServerCallContext context)
    {
        var s = catalog.Get(request.Name).GetStatistics();
        return Task.FromResult(new V1.CollectionStats
        {
            Name = request.Name,
            DocumentCount = (ulong)s.Documents,
            DeletedCount = (ulong)s.Deleted,
            Dimension = (uint)s.Dimension,
            IndexKind = s.IndexKind,
            MemoryBytes = (ulong)s.MemoryBytes,
            DiskBytes = (ulong)s.DiskBytes,
            CheckpointWalPosition = (ulong)s.CheckpointWalPosition,
            WalTailPosition = (ulong)s.WalTail,
        });
    }
}
