using BgeVectorDb.Common.Mining;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Mining;
using BgeVectorDb.Server.Hosting;
using BgeVectorDb.Server.Mapping;
using Grpc.Core;
using Microsoft.Extensions.Options;
using V1 = BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Server.Services;

/// <summary>Hard-negative mining over gRPC: validates the whole request (options and every query) before
/// streaming, then streams one result per query in order. Cancellation of the call stops the job.</summary>
internal sealed class MiningService(CollectionCatalog catalog, IOptions<InferenceOptions> inference) : V1.Mining.MiningBase
{
    public override async Task MineHardNegatives(V1.MineRequest request, IServerStreamWriter<V1.MinedExample> responseStream, ServerCallContext context)
    {
        var collection = catalog.Get(request.Collection);
        var options = MiningProtoMapper.ToOptions(request, inference.Value.RerankerSigmoid);
        var examples = MiningProtoMapper.ToExamples(request);
        var miner = new HardNegativeMiner(collection, options);
        for (var i = 0; i < examples.Length; i++) miner.Validate(examples[i], $"queries[{i}]");

        var ct = context.CancellationToken;
        await foreach (var mined in miner.MineAsync(examples, ct))
        {
            await responseStream.WriteAsync(MiningProtoMapper.ToProto(mined), ct);
        }
    }
}
