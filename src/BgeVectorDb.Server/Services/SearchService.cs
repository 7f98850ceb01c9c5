using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Search;
using BgeVectorDb.Server.Hosting;
using BgeVectorDb.Server.Mapping;
using Grpc.Core;
using V1 = BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Server.Services;

internal sealed class SearchService(CollectionCatalog catalog, ModelHost models) : V1.Search.SearchBase
{
    public override async Task<V1.SearchResponse> Search(V1.SearchRequest request, ServerCallContext context)
    {
        var collection = catalog.Get(request.Collection);
        var query = new TextQuery(request.Query, ProtoMapper.ToCore(request.Options),
            request.HasRerank ? request.Rerank : null,
            request.HasQueryInstruction ? request.QueryInstruction : null);
        var result = await collection.SearchAsync(query, context.CancellationToken);
        var response = ProtoMapper.ToProto(result);
        if (request.ReturnQueryVector && result.QueryVector is { } vector) response.QueryVector.AddRange(vector);
        return response;
    }

    public override async Task<V1.EmbedResponse> Embed(V1.EmbedRequest request, ServerCallContext context)
    {
        var asQueries = request.Kind switch
        {
            V1.EmbedKind.Query => true,
            V1.EmbedKind.Document => false,
            _ => throw new EngineException(EngineErrorKind.InvalidArgument, $"kind: unknown value {(int)request.Kind}", "kind"),
        };
        if (request.Collection.Length > 0 && request.Model.Length > 0) EngineException.ThrowInvalid("model", "give either collection or model, not both");
        if (!asQueries && request.HasQueryInstruction) EngineException.ThrowInvalid("query_instruction", "applies to queries only (kind EMBED_KIND_QUERY)");
        string? instruction = request.HasQueryInstruction ? request.QueryInstruction : null;
        var texts = request.Texts;
        float[][] vectors;
        string modelId, prompt;
        if (request.Collection.Length > 0)
        {
            var collection = catalog.Get(request.Collection);
            vectors = await collection.EmbedAsync(texts, asQueries, instruction, context.CancellationToken);
            modelId = collection.Config.EmbeddingModel;
            prompt = asQueries ? instruction ?? collection.Config.QueryInstruction : collection.Embedder!.DocumentPrompt;
        }
        else
        {
            modelId = request.Model.Length > 0 ? request.Model : models.DefaultEmbeddingModel;
            if (string.Equals(modelId, CollectionConfig.None, StringComparison.OrdinalIgnoreCase))
            {
                throw new EngineException(EngineErrorKind.FailedPrecondition,
                    "model: the server has no default embedding model (Inference:EmbeddingModel=none); name one or a collection", "model");
            }
            EmbedInputValidator.Validate(texts, asQueries, instruction, catalog.Limits);
            var embedder = models.GetEmbedder(modelId, "model");
            prompt = asQueries ? instruction ?? embedder.DefaultQueryInstruction : embedder.DocumentPrompt;
            vectors = asQueries
                ? await Task.WhenAll(texts.Select(t => embedder.EmbedQueryAsync(t, prompt, context.CancellationToken)))
                : await embedder.EmbedDocumentsAsync(texts, context.CancellationToken);
        }
        var response = new V1.EmbedResponse { Model = modelId, Dimension = (uint)(vectors.Length > 0 ? vectors[0].Length : 0), Prompt = prompt };
        foreach (var v in vectors)
        {
            var embedding = new V1.Embedding();
            embedding.Values.AddRange(v);
            response.Embeddings.Add(embedding);
        }
        return response;
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
