using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Search;
using BgeVectorDb.Server.Mapping;
using Grpc.Core;
using V1 = BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Server.Services;

internal sealed class SearchService(CollectionCatalog catalog) : V1.Search.SearchBase
{
    public override async Task<V1.SearchResponse> Search(V1.SearchRequest request, ServerCallContext context)
    {
        var collection = catalog.Get(request.Collection);
        var query = new TextQuery(request.Query, ProtoMapper.ToCore(request.Options),
            request.HasRerank ? request.Rerank : null,
            request.HasQueryInstruction ? request.QueryInstruction : null);
        return ProtoMapper.ToProto(await collection.SearchAsync(query, context.CancellationToken));
    }

    public override Task<V1.SearchResponse> SearchByVector(V1.SearchByVectorRequest request, ServerCallContext context)
    {
        var collection = catalog.Get(request.Collection);
        return Task.FromResult(ProtoMapper.ToProto(collection.SearchByVector(request.Vector.ToArray(), ProtoMapper.ToCore(request.Options))));
    }

    public override Task<V1.SearchResponse> SearchByDocument(V1.SearchByDocumentRequest request, ServerCallContext context)
    {
        var collection = catalog.Get(request.Collection);
        return Task.FromResult(ProtoMapper.ToProto(collection.SearchByDocument(request.Id, ProtoMapper.ToCore(request.Options))));
    }
}
