using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Inference;
using BgeVectorDb.Server.Hosting;
using Grpc.Core;
using V1 = BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Server.Services;

internal sealed class AdminService(CollectionCatalog catalog, ModelHost models, ServerClock clock) : V1.Admin.AdminBase
{
    public override Task<V1.ServerInfo> GetInfo(V1.GetInfoRequest request, ServerCallContext context)
    {
        var info = new V1.ServerInfo
        {
            Version = typeof(AdminService).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            ExecutionProvider = models.Provider.Provider,
            ExecutionProviderReason = models.Provider.Reason,
            UptimeSeconds = (ulong)clock.Uptime.TotalSeconds,
        };
        info.AvailableProviders.AddRange(models.Provider.Available);
        foreach (var m in models.Loaded)
        {
            var model = new V1.ModelInfo
            {
                Role = m.Role,
                Id = m.Id,
                Path = m.Path,
                Family = m.Family,
                Dimension = (uint)m.Dimension,
                MaxLength = (uint)m.MaxLength,
                Synthetic = m.Synthetic,
            };
            if (m.Profile is { } profile)
            {
                model.Pooling = PoolingModes.Name(profile.Pooling);
                model.Normalized = profile.Normalize;
                model.QueryPrompt = profile.QueryPrompt;
                model.DocumentPrompt = profile.DocumentPrompt;
            }
            info.Models.Add(model);
        }
        return Task.FromResult(info);
    }

    public override async Task<V1.CheckpointResponse> Checkpoint(V1.CheckpointRequest request, ServerCallContext context)
    {
        var response = new V1.CheckpointResponse();
        response.Collections.AddRange(await catalog.CheckpointAsync(request.Collection, context.CancellationToken));
        return response;
    }

    public override async Task<V1.CreateSnapshotResponse> CreateSnapshot(V1.CreateSnapshotRequest request, ServerCallContext context)
    {
        if (request.Collection.Length == 0) EngineException.ThrowInvalid("collection", "must not be empty");
        var (folder, descriptor) = await catalog.CreateSnapshotAsync(request.Collection, context.CancellationToken);
        return new V1.CreateSnapshotResponse
        {
            Path = folder,
            Documents = (ulong)descriptor.Documents,
            WalPosition = (ulong)descriptor.WalPosition,
            CheckpointSequence = (ulong)descriptor.Sequence,
        };
    }

    public override async Task<V1.RestoreSnapshotResponse> RestoreSnapshot(V1.RestoreSnapshotRequest request, ServerCallContext context)
    {
        var collection = await catalog.RestoreSnapshotAsync(request.Path, request.Collection, context.CancellationToken);
        return new V1.RestoreSnapshotResponse { Collection = collection.Name, Documents = (ulong)collection.Count };
    }
}

/// <summary>Server start time, for uptime.</summary>
internal sealed class ServerClock
{
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    public TimeSpan Uptime => DateTimeOffset.UtcNow - _started;
}
