using V1 = BgeVectorDb.Protos.V1;

namespace BgeVectorDb.Server.Services;

/// <summary>Hard-negative mining over gRPC. Not implemented yet (its own issue): every call answers
/// UNIMPLEMENTED, from the generated base class.</summary>
internal sealed class MiningService : V1.Mining.MiningBase;
