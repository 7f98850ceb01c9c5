using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Index.Hnsw;

/// <summary>
/// Hierarchical navigable small world graph (Malkov &amp; Yashunin) over dense internal ids.
/// <para>Memory: nodes live in pinned chunks of <see cref="ChunkSize"/> nodes with a fixed stride;
/// each node is its level-0 link block ([level+1][deleted][count][2M links], padded to 64 bytes)
/// followed by its vector (64-byte aligned). Growing adds chunks and republishes the chunk table, so
/// no vector or link is ever copied under a reader. Upper-level links are small per-node arrays.</para>
/// <para>Concurrency: any number of searches and upserts/deletes run in parallel. Searches take no
/// lock; a link list is changed under its node's (striped) lock, links before count, so a reader sees
/// a valid, possibly slightly stale list. Operations on the same id are serialised.</para>
/// <para>Deletes: a tombstone (the node keeps routing searches but is never returned) plus repair:
/// every neighbour that linked to the deleted node re-selects its links, by the same heuristic, from
/// its remaining links and the deleted node's links. An upsert of an existing id rewrites the vector in
/// place under the node's version counter (a seqlock) and re-links the node at its levels: a score in a
/// result, an exact scan or <see cref="TryGetVector"/> always comes from the whole old or the whole new
/// vector; only routing decisions (upper levels, link selection) may use a vector mid-rewrite.</para>
/// </summary>
public sealed unsafe partial class HnswIndex : IVectorIndex
{
    public const int ChunkShift = 10;
    public const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;
    private const int LockStripes = 4096;
    private const int MaxLevelCap = 16;
    private const int HeaderInts = 4; // level+1, deleted, level-0 count, vector version (odd while a replace writes it)
    private const int VersionSlot = 3;

    private readonly DistanceKind _distance;
    private readonly bool _l2;
    private readonly int _m;
    private readonly int _m0;
    private readonly double _mL;
    private readonly ulong _seed;
    private readonly int _vectorOffset;
    private readonly int _stride;
    private readonly object _growLock = new();
    private readonly object _entryLock = new();
    private readonly object[] _linkLocks = new object[LockStripes];
    private readonly object[] _opLocks = new object[LockStripes];
    private volatile Storage _store;
    private volatile EntryPoint? _entry;
    private int _live;
    private int _bound;
    private long _upperBytes;

    public HnswIndex(int dimension, DistanceKind distance, int m = 16, int efConstruction = 200, int efSearch = 64, ulong seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(m, 256);
        ArgumentOutOfRangeException.ThrowIfLessThan(efConstruction, 1);
        Dimension = dimension;
        _distance = distance;
        _l2 = distance == DistanceKind.L2;
        _m = m;
        _m0 = 2 * m;
        EfConstruction = Math.Max(efConstruction, m);
        DefaultEf = Math.Max(1, efSearch);
        _mL = 1 / Math.Log(m);
        _seed = seed;
        _vectorOffset = Align64((HeaderInts + _m0) * sizeof(int));
        _stride = _vectorOffset + Align64(dimension * sizeof(float));
        for (var i = 0; i < LockStripes; i++)
        {
            _linkLocks[i] = new object();
            _opLocks[i] = new object();
        }
        _store = new Storage([], [], []);
    }

    public string Kind => "hnsw";

    public int Dimension { get; }

    public int M => _m;

    public int EfConstruction { get; }

    /// <summary>Search breadth used when a query passes ef = 0.</summary>
    public int DefaultEf { get; }

    public int Count => Volatile.Read(ref _live);

    /// <summary>Bound on internal ids in use (live or tombstoned).</summary>
    public int NodeBound => Volatile.Read(ref _bound);

    /// <summary>Bytes of one node in the arena (links + vector), without upper levels.</summary>
    public int NodeStride => _stride;

    public long MemoryBytes => (long)_store.Chunks.Length * ((long)ChunkSize * _stride + 64 + ChunkSize * IntPtr.Size) + Interlocked.Read(ref _upperBytes);

    /// <summary>Top level and entry point (for diagnostics).</summary>
    public (int EntryPoint, int MaxLevel) Entry => _entry is { } e ? (e.Id, e.Level) : (-1, -1);

    private static int Align64(int bytes) => (bytes + 63) & ~63;

    // ---- node access ------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* NodePtr(Storage s, int id) =>
        (byte*)Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s.Chunks), id >> ChunkShift) + (nint)(id & ChunkMask) * _stride;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float* VectorPtr(Storage s, int id) => (float*)(NodePtr(s, id) + _vectorOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int* Header(byte* node) => (int*)node;

    private static int[]? UpperLinks(Storage s, int id) => s.Upper[id >> ChunkShift][id & ChunkMask];

    private int UpperOffset(int level) => (level - 1) * (_m + 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float Score(float* a, float* b) => _l2 ? -Kernels.SquaredL2(a, b, Dimension) : Kernels.Dot(a, b, Dimension);

    private bool Exists(Storage s, int id) => (uint)id < (uint)s.Capacity && Volatile.Read(ref Header(NodePtr(s, id))[0]) != 0;

    private bool IsLive(Storage s, int id) => Exists(s, id) && Volatile.Read(ref Header(NodePtr(s, id))[1]) == 0;

    private object LinkLock(int id) => _linkLocks[id & (LockStripes - 1)];

    private object OpLock(int id) => _opLocks[id & (LockStripes - 1)];

    private int RandomLevel(int id)
    {
        // Deterministic per (seed, id): splitmix64 -> U in (0, 1] -> floor(-ln U * mL).
        var z = _seed + 0x9E3779B97F4A7C15UL * (ulong)(id + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        var u = ((z >> 11) + 1) * (1.0 / (1UL << 53));
        return Math.Min(MaxLevelCap, (int)Math.Floor(-Math.Log(u) * _mL));
    }

    private Storage EnsureCapacity(int id)
    {
        var s = _store;
        if (id < s.Capacity) return s;
        lock (_growLock)
        {
            s = _store;
            if (id < s.Capacity) return s;
            var chunksNeeded = (id >> ChunkShift) + 1;
            var chunks = new nint[chunksNeeded];
            var arrays = new byte[chunksNeeded][];
            var upper = new int[]?[chunksNeeded][];
            Array.Copy(s.Chunks, chunks, s.Chunks.Length);
            Array.Copy(s.Arrays, arrays, s.Arrays.Length);
            Array.Copy(s.Upper, upper, s.Upper.Length);
            for (var c = s.Chunks.Length; c < chunksNeeded; c++)
            {
                var bytes = GC.AllocateArray<byte>(ChunkSize * _stride + 64, pinned: true);
                var p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(bytes));
                arrays[c] = bytes;
                chunks[c] = (p + 63) & ~(nint)63;
                upper[c] = new int[]?[ChunkSize];
            }
            s = new Storage(chunks, arrays, upper);
            _store = s;
            return s;
        }
    }

    private void RaiseBound(int id)
    {
        var b = Volatile.Read(ref _bound);
        while (id + 1 > b)
        {
            var seen = Interlocked.CompareExchange(ref _bound, id + 1, b);
            if (seen == b) return;
            b = seen;
        }
    }

    // ---- writes -------------------------------------------------------------------------------

    public void Upsert(int id, ReadOnlySpan<float> vector)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        if (vector.Length != Dimension) throw new ArgumentException($"expected {Dimension} dimensions, got {vector.Length}", nameof(vector));
        var s = EnsureCapacity(id);
        lock (OpLock(id))
        {
            var node = NodePtr(s, id);
            var h = Header(node);
            var vec = (float*)(node + _vectorOffset);
            if (h[0] != 0)
            {
                // Replace in place under the node's version (a seqlock): odd while writing, so a search
                // that read the vector meanwhile reads it again (see ReadWasStable).
                Interlocked.Increment(ref h[VersionSlot]);
                vector.CopyTo(new Span<float>(vec, Dimension));
                Interlocked.Increment(ref h[VersionSlot]);
                if (h[1] != 0)
                {
                    Volatile.Write(ref h[1], 0);
                    Interlocked.Increment(ref _live);
                }
                Connect(s, id, h[0] - 1, vec);
                return;
            }
            var level = RandomLevel(id);
            if (level > 0)
            {
                s.Upper[id >> ChunkShift][id & ChunkMask] = GC.AllocateArray<int>(level * (_m + 1), pinned: true);
                Interlocked.Add(ref _upperBytes, level * (_m + 1) * sizeof(int) + 24);
            }
            vector.CopyTo(new Span<float>(vec, Dimension));
            h[1] = 0;
            h[2] = 0;
            Volatile.Write(ref h[0], level + 1);
            RaiseBound(id);
            Interlocked.Increment(ref _live);
            Connect(s, id, level, vec);
        }
    }

    public void Delete(int id)
    {
        var s = _store;
        if (!Exists(s, id)) return;
        lock (OpLock(id))
        {
            var h = Header(NodePtr(s, id));
            if (h[1] != 0) return;
            Volatile.Write(ref h[1], 1);
            Interlocked.Decrement(ref _live);
            Repair(s, id, h[0] - 1);
        }
    }

    /// <summary>Links node <paramref name="id"/> (vector already written) into every level up to
    /// <paramref name="level"/>; promotes it to entry point when it is the highest node.</summary>
    private void Connect(Storage s, int id, int level, float* vec)
    {
        var entry = _entry;
        if (entry is null)
        {
            lock (_entryLock)
            {
                entry = _entry;
                if (entry is null)
                {
                    _entry = new EntryPoint(id, level);
                    return;
                }
            }
        }
        if (level > entry.Level)
        {
            lock (_entryLock)
            {
                entry = _entry!;
                ConnectFrom(s, id, level, vec, entry);
                if (level > entry.Level) _entry = new EntryPoint(id, level);
            }
        }
        else
        {
            ConnectFrom(s, id, level, vec, entry);
        }
    }

    private void ConnectFrom(Storage s, int id, int level, float* vec, EntryPoint entry)
    {
        s = _store; // the entry point may be newer than the caller's snapshot
        var ctx = SearchContext.Rent();
        try
        {
            var cur = entry.Id;
            var curScore = Score(vec, VectorPtr(s, cur));
            for (var l = entry.Level; l > level; l--) Greedy(s, vec, l, ref cur, ref curScore);
            // Choose neighbours top-down, then publish bottom-up: once a level links to the node, its
            // lists at that level and below are in place, so no search stalls on a half-linked node.
            var top = Math.Min(level, entry.Level);
            Span<int> chosen = stackalloc int[(top + 1) * _m];
            Span<int> chosenCount = stackalloc int[top + 1];
            for (var l = top; l >= 0; l--)
            {
                if (l == 0)
                {
                    var noFilter = default(NoFilter);
                    if (_l2) SearchLevel0<NegativeL2Scorer, NoFilter>(s, vec, cur, EfConstruction, ref noFilter, id, ctx);
                    else SearchLevel0<DotScorer, NoFilter>(s, vec, cur, EfConstruction, ref noFilter, id, ctx);
                }
                else
                {
                    SearchUpper(s, vec, cur, EfConstruction, l, id, ctx);
                }
                chosenCount[l] = -1; // no candidates: keep the node's current list at this level
                if (ctx.ResultCount == 0) continue;
                var n = ctx.SortResults();
                cur = ctx.Scratch[0].Id;
                chosenCount[l] = SelectHeuristic(s, ctx.Scratch, n, _m, ctx.Selected);
                ctx.Selected.AsSpan(0, chosenCount[l]).CopyTo(chosen.Slice(l * _m, _m));
            }
            for (var l = 0; l <= top; l++)
            {
                if (chosenCount[l] < 0) continue;
                var mine = chosen.Slice(l * _m, chosenCount[l]);
                SetLinks(s, id, l, mine);
                foreach (var nb in mine) AddLink(nb, id, l, ctx);
            }
        }
        finally
        {
            SearchContext.Return(ctx);
        }
    }

    /// <summary>The heuristic of the paper (algorithm 4 without extension): walk candidates best
    /// first and keep one only if it is closer to the base than to every kept neighbour.</summary>
    private int SelectHeuristic(Storage s, Pair[] sorted, int count, int max, int[] selected)
    {
        var kept = 0;
        for (var i = 0; i < count && kept < max; i++)
        {
            var c = sorted[i];
            var cv = VectorPtr(s, c.Id);
            var good = true;
            for (var j = 0; j < kept; j++)
            {
                if (Score(cv, VectorPtr(s, selected[j])) > c.Score)
                {
                    good = false;
                    break;
                }
            }
            if (good) selected[kept++] = c.Id;
        }
        return kept;
    }

    private void SetLinks(Storage s, int id, int level, ReadOnlySpan<int> links)
    {
        var count = links.Length;
        lock (LinkLock(id))
        {
            if (level == 0)
            {
                var h = Header(NodePtr(s, id));
                var dst = h + HeaderInts;
                for (var j = 0; j < count; j++) dst[j] = links[j];
                Volatile.Write(ref h[2], count);
            }
            else
            {
                var up = UpperLinks(s, id)!;
                var off = UpperOffset(level);
                for (var j = 0; j < count; j++) up[off + 1 + j] = links[j];
                Volatile.Write(ref up[off], count);
            }
        }
    }

    /// <summary>Adds a back link <paramref name="from"/> -> <paramref name="to"/>; a full list is
    /// re-selected by the heuristic over its links plus the new one (tombstones dropped).</summary>
    private void AddLink(int from, int to, int level, SearchContext ctx)
    {
        var max = level == 0 ? _m0 : _m;
        lock (LinkLock(from))
        {
            // Links may name nodes added after any earlier snapshot: their chunks were published
            // before they were linked, so a snapshot taken now covers every id read below.
            var s = _store;
            var links = LinkList(s, from, level, out var countRef);
            var count = Math.Min(Volatile.Read(ref countRef[0]), max);
            for (var j = 0; j < count; j++)
            {
                if (links[j] == to) return;
            }
            if (count < max)
            {
                links[count] = to;
                Volatile.Write(ref countRef[0], count + 1);
                return;
            }
            ctx.EnsureScratch(max + 1);
            var baseVec = VectorPtr(s, from);
            var n = 0;
            for (var j = 0; j < count; j++)
            {
                var c = links[j];
                if (Header(NodePtr(s, c))[1] != 0) continue;
                ctx.Scratch[n++] = new Pair(Score(baseVec, VectorPtr(s, c)), c);
            }
            ctx.Scratch[n++] = new Pair(Score(baseVec, VectorPtr(s, to)), to);
            WriteSelection(s, ctx, n, max, links, countRef);
        }
    }

    /// <summary>Sorts ctx.Scratch[..n], selects up to <paramref name="max"/> and writes the list
    /// (caller holds the node's link lock).</summary>
    private void WriteSelection(Storage s, SearchContext ctx, int n, int max, int* links, int* countRef)
    {
        ctx.Scratch.AsSpan(0, n).Sort(static (a, b) => b.Score.CompareTo(a.Score));
        var kept = SelectHeuristic(s, ctx.Scratch, n, max, ctx.Selected);
        for (var j = 0; j < kept; j++) links[j] = ctx.Selected[j];
        Volatile.Write(ref countRef[0], kept);
    }

    /// <summary>Pointers to a node's links and count at <paramref name="level"/> (upper-level arrays
    /// are allocated pinned, so the pointers stay valid).</summary>
    private int* LinkList(Storage s, int id, int level, out int* count)
    {
        if (level == 0)
        {
            var h = Header(NodePtr(s, id));
            count = h + 2;
            return h + HeaderInts;
        }
        var up = UpperLinks(s, id)!;
        var p = (int*)Unsafe.AsPointer(ref up[UpperOffset(level)]);
        count = p;
        return p + 1;
    }

    /// <summary>Neighbour repair after a delete: each neighbour that links to <paramref name="id"/>
    /// re-selects its list from its other links plus the deleted node's links.</summary>
    private void Repair(Storage s, int id, int level)
    {
        var ctx = SearchContext.Rent();
        try
        {
            for (var l = 0; l <= level; l++)
            {
                var max = l == 0 ? _m0 : _m;
                ctx.EnsureScratch(3 * max + 2);
                var mine = ctx.LinkCopy;
                int mineCount;
                lock (LinkLock(id))
                {
                    var links = LinkList(s, id, l, out var countRef);
                    mineCount = Math.Min(countRef[0], max);
                    for (var j = 0; j < mineCount; j++) mine[j] = links[j];
                }
                s = _store; // covers every id just read (see AddLink)
                for (var i = 0; i < mineCount; i++)
                {
                    var nb = mine[i];
                    if (nb == id || Header(NodePtr(s, nb))[1] != 0) continue;
                    lock (LinkLock(nb))
                    {
                        var links = LinkList(s, nb, l, out var countRef);
                        var count = Math.Min(countRef[0], max);
                        s = _store;
                        var pointsBack = false;
                        for (var j = 0; j < count && !pointsBack; j++) pointsBack = links[j] == id;
                        if (!pointsBack) continue;
                        var baseVec = VectorPtr(s, nb);
                        var n = 0;
                        for (var j = 0; j < count; j++) n = AddCandidate(s, ctx, n, links[j], nb, baseVec);
                        for (var j = 0; j < mineCount; j++) n = AddCandidate(s, ctx, n, mine[j], nb, baseVec);
                        WriteSelection(s, ctx, n, max, links, countRef);
                    }
                }
            }
        }
        finally
        {
            SearchContext.Return(ctx);
        }
    }

    private int AddCandidate(Storage s, SearchContext ctx, int n, int c, int self, float* baseVec)
    {
        if (c == self || Header(NodePtr(s, c))[1] != 0) return n;
        for (var j = 0; j < n; j++)
        {
            if (ctx.Scratch[j].Id == c) return n;
        }
        ctx.Scratch[n] = new Pair(Score(baseVec, VectorPtr(s, c)), c);
        return n + 1;
    }

    private sealed record EntryPoint(int Id, int Level);

    /// <summary>An immutable snapshot of the chunk tables; replaced (never mutated in size) on growth.</summary>
    private sealed class Storage(nint[] chunks, byte[][] arrays, int[]?[][] upper)
    {
        public readonly nint[] Chunks = chunks;
        public readonly byte[][] Arrays = arrays;
        public readonly int[]?[][] Upper = upper;
        public readonly int Capacity = chunks.Length * ChunkSize;
    }
}
