namespace BgeVectorDb.Core.Index;

/// <summary>One node of an index as the storage layer persists it (internal id -> record).
/// <paramref name="Links"/>[level] lists the neighbour ids at that level (an exact index has none);
/// a tombstoned node that still routes searches has <paramref name="Deleted"/> set.</summary>
public sealed record IndexNode(int Id, bool Deleted, float[] Vector, int[][] Links)
{
    public int Level => Links.Length - 1;
}

/// <summary>Index-wide state that goes with the nodes: the graph entry point (-1 when empty or not a
/// graph), the top level, and the bound on internal ids in use.</summary>
public sealed record IndexState(string Kind, int EntryPoint, int MaxLevel, int NodeCapacity);
