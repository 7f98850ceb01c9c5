namespace BgeVectorDb.Core.Index.Hnsw;

public sealed unsafe partial class HnswIndex
{
    public IndexState ExportState()
    {
        var e = _entry;
        return new IndexState(Kind, e?.Id ?? -1, e?.Level ?? 0, NodeBound);
    }

    public bool TryExportNode(int id, out IndexNode node)
    {
        var s = _store;
        if (!Exists(s, id))
        {
            node = null!;
            return false;
        }
        lock (OpLock(id))
        {
            var h = Header(NodePtr(s, id));
            var level = h[0] - 1;
            var links = new int[level + 1][];
            for (var l = 0; l <= level; l++)
            {
                lock (LinkLock(id))
                {
                    var p = LinkList(s, id, l, out var countRef);
                    var count = Math.Min(countRef[0], l == 0 ? _m0 : _m);
                    links[l] = new ReadOnlySpan<int>(p, count).ToArray();
                }
            }
            node = new IndexNode(id, h[1] != 0, new ReadOnlySpan<float>(VectorPtr(s, id), Dimension).ToArray(), links);
            return true;
        }
    }

    public void ImportNode(IndexNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentOutOfRangeException.ThrowIfNegative(node.Id);
        if (node.Vector.Length != Dimension) throw new InvalidDataException($"node {node.Id}: expected {Dimension} dimensions, got {node.Vector.Length}");
        if (node.Links.Length == 0 || node.Level > MaxLevelCap) throw new InvalidDataException($"node {node.Id}: level {node.Level} out of range");
        var s = EnsureCapacity(node.Id);
        lock (OpLock(node.Id))
        {
            var id = node.Id;
            var h = Header(NodePtr(s, id));
            var level = node.Level;
            if (level > 0)
            {
                var up = UpperLinks(s, id);
                if (up is null || up.Length < level * (_m + 1))
                {
                    s.Upper[id >> ChunkShift][id & ChunkMask] = GC.AllocateArray<int>(level * (_m + 1), pinned: true);
                    Interlocked.Add(ref _upperBytes, level * (_m + 1) * sizeof(int) + 24);
                }
            }
            node.Vector.CopyTo(new Span<float>(VectorPtr(s, id), Dimension));
            for (var l = 0; l <= level; l++)
            {
                var src = node.Links[l];
                var max = l == 0 ? _m0 : _m;
                if (src.Length > max) throw new InvalidDataException($"node {id}: {src.Length} links at level {l}, more than {max}");
                var p = LinkList(s, id, l, out var countRef);
                for (var j = 0; j < src.Length; j++)
                {
                    if (src[j] < 0) throw new InvalidDataException($"node {id}: negative link");
                    p[j] = src[j];
                }
                *countRef = src.Length;
            }
            h[1] = node.Deleted ? 1 : 0;
            Volatile.Write(ref h[0], level + 1);
            RaiseBound(id);
        }
    }

    public void CompleteImport(IndexState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Kind != Kind) throw new InvalidDataException($"index state is for '{state.Kind}', not '{Kind}'");
        var bound = Math.Max(state.NodeCapacity, NodeBound);
        var s = bound > 0 ? EnsureCapacity(bound - 1) : _store;
        var live = 0;
        for (var id = 0; id < bound; id++)
        {
            var h = Header(NodePtr(s, id));
            if (h[0] == 0) continue;
            if (h[1] == 0) live++;
            for (var l = 0; l < h[0]; l++)
            {
                var p = LinkList(s, id, l, out var countRef);
                for (var j = 0; j < *countRef; j++)
                {
                    if (p[j] >= bound || !Exists(s, p[j])) throw new InvalidDataException($"node {id} links to missing node {p[j]}");
                }
            }
        }
        if (state.EntryPoint >= 0)
        {
            if (!Exists(s, state.EntryPoint)) throw new InvalidDataException($"entry point {state.EntryPoint} was not imported");
            var level = Header(NodePtr(s, state.EntryPoint))[0] - 1;
            if (level != state.MaxLevel) throw new InvalidDataException($"entry point level {level} differs from max level {state.MaxLevel}");
            _entry = new EntryPoint(state.EntryPoint, state.MaxLevel);
        }
        else
        {
            _entry = null;
        }
        RaiseBound(bound - 1);
        Volatile.Write(ref _live, live);
    }
}
