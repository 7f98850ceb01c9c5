using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace BgeVectorDb.Core.Index.Hnsw;

public sealed unsafe partial class HnswIndex
{
    /// <summary>Below this estimated fraction of matching points a filtered query scans exactly.</summary>
    public const double ExactSelectivity = 0.05;

    private const int PlannerSamples = 256;

    /// <summary>Cache lines of a neighbour's vector requested ahead of scoring (the hardware prefetcher
    /// follows the rest). Measured with `ann` (100k x 384, ef 64): 2 and 4 lines about equal, 1 line
    /// about 10% and 8 lines about 5% slower, the whole vector about 15% slower.</summary>
    private const int PrefetchLines = 4;

    /// <summary>How the last filtered query was (or would be) executed; see <see cref="Plan"/>.</summary>
    public enum FilterPlan
    {
        Graph,
        Exact,
    }

    public ScoredId[] Search(ReadOnlySpan<float> query, int k, Func<int, bool>? filter = null, int ef = 0)
    {
        if (query.Length != Dimension) throw new ArgumentException($"expected {Dimension} dimensions, got {query.Length}", nameof(query));
        if (k <= 0) return [];
        ef = Math.Max(ef <= 0 ? DefaultEf : ef, k);
        var entry = _entry;
        if (entry is null) return [];
        var s = _store;
        fixed (float* q = query)
        {
            if (filter is null) return GraphSearch(s, q, k, ef, entry, default(NoFilter));
            return Plan(filter, ef) == FilterPlan.Exact ? ExactSearch(s, q, k, filter) : GraphSearch(s, q, k, ef, entry, new FuncFilter(filter));
        }
    }

    /// <summary>The planner: estimates the filter's selectivity on a fixed sample of nodes and picks
    /// the exact scan when few points match (the graph walk would visit most of the graph anyway).</summary>
    public FilterPlan Plan(Func<int, bool> filter, int ef)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var s = _store;
        var bound = Math.Min(NodeBound, s.Capacity);
        var live = Count;
        if (live <= 4 * Math.Max(ef, 64)) return FilterPlan.Exact;
        var samples = Math.Min(PlannerSamples, bound);
        var step = (double)bound / samples;
        int seen = 0, matched = 0;
        for (var i = 0; i < samples; i++)
        {
            var id = (int)(i * step + step * 0.5);
            if (!IsLive(s, id)) continue;
            seen++;
            if (filter(id)) matched++;
        }
        if (seen == 0) return FilterPlan.Exact;
        var selectivity = (double)matched / seen;
        return selectivity < ExactSelectivity || selectivity * live <= 4 * ef ? FilterPlan.Exact : FilterPlan.Graph;
    }

    /// <summary>Exact scan over the arena (the plan for very selective filters).</summary>
    private ScoredId[] ExactSearch(Storage s, float* q, int k, Func<int, bool> filter)
    {
        var top = new TopK(k);
        var bound = Math.Min(NodeBound, s.Capacity);
        for (var id = 0; id < bound; id++)
        {
            var node = NodePtr(s, id);
            var h = Header(node);
            if (h[0] == 0 || Volatile.Read(ref h[1]) != 0 || !filter(id)) continue;
            top.Offer(id, _l2 ? StableScore<NegativeL2Scorer>(q, node, _vectorOffset, Dimension) : StableScore<DotScorer>(q, node, _vectorOffset, Dimension));
        }
        return top.ToSortedArray();
    }

    private ScoredId[] GraphSearch<TFilter>(Storage s, float* q, int k, int ef, EntryPoint entry, TFilter filter)
        where TFilter : struct, INodeFilter
    {
        var ctx = SearchContext.Rent();
        try
        {
            var cur = entry.Id;
            var curScore = Score(q, VectorPtr(s, cur));
            for (var l = entry.Level; l > 0; l--) Greedy(s, q, l, ref cur, ref curScore);
            if (_l2) SearchLevel0<NegativeL2Scorer, TFilter>(s, q, cur, ef, ref filter, -1, ctx);
            else SearchLevel0<DotScorer, TFilter>(s, q, cur, ef, ref filter, -1, ctx);
            var n = Math.Min(k, ctx.SortResults());
            var result = new ScoredId[n];
            for (var i = 0; i < n; i++) result[i] = new ScoredId(ctx.Scratch[i].Id, ctx.Scratch[i].Score);
            return result;
        }
        finally
        {
            SearchContext.Return(ctx);
        }
    }

    /// <summary>Greedy walk at an upper level: move to the best neighbour until none improves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Greedy(Storage s, float* q, int level, ref int cur, ref float curScore)
    {
        var cap = s.Capacity;
        var off = UpperOffset(level);
        var changed = true;
        while (changed)
        {
            changed = false;
            var up = UpperLinks(s, cur);
            if (up is null || up.Length <= off) return;
            var count = Math.Min(Volatile.Read(ref up[off]), _m);
            for (var j = 0; j < count; j++)
            {
                var n = up[off + 1 + j];
                if ((uint)n >= (uint)cap) continue;
                var sc = Score(q, VectorPtr(s, n));
                if (sc > curScore)
                {
                    curScore = sc;
                    cur = n;
                    changed = true;
                }
            }
        }
    }

    /// <summary>Beam search at an upper level (insertion only): fills ctx results with up to ef live
    /// nodes other than <paramref name="exclude"/>.</summary>
    private void SearchUpper(Storage s, float* q, int entry, int ef, int level, int exclude, SearchContext ctx)
    {
        var cap = s.Capacity;
        ctx.Begin(cap, ef);
        var visited = ctx.Visited;
        var tag = ctx.Tag;
        var off = UpperOffset(level);
        var es = Score(q, VectorPtr(s, entry));
        visited[entry] = tag;
        ctx.PushCandidate(es, entry);
        if (entry != exclude && Header(NodePtr(s, entry))[1] == 0) ctx.PushResult(es, entry);
        while (ctx.CandidateCount > 0)
        {
            var c = ctx.PopCandidate();
            if (ctx.ResultCount >= ef && c.Score < ctx.Results[0].Score) break;
            var up = UpperLinks(s, c.Id);
            if (up is null || up.Length <= off) continue;
            var count = Math.Min(Volatile.Read(ref up[off]), _m);
            for (var j = 0; j < count; j++)
            {
                var n = up[off + 1 + j];
                if ((uint)n >= (uint)cap || visited[n] == tag) continue;
                visited[n] = tag;
                var sc = Score(q, VectorPtr(s, n));
                if (ctx.ResultCount < ef || sc > ctx.Results[0].Score)
                {
                    ctx.PushCandidate(sc, n);
                    if (n != exclude && Header(NodePtr(s, n))[1] == 0)
                    {
                        ctx.PushResult(sc, n);
                        if (ctx.ResultCount > ef) ctx.PopResult();
                    }
                }
            }
        }
    }

    /// <summary>The hot loop: beam search at level 0. Every node routes; only live nodes that pass the
    /// filter (and are not <paramref name="exclude"/>) enter the results. Stops when the best open
    /// candidate is worse than the worst of ef results. Compiled fully optimised at first call:
    /// Dynamic PGO's profile (taken during builds, at ef_construction) made its tier-1 code vary from
    /// process to process by up to 30% in the `ann` benchmark.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SearchLevel0<TScorer, TFilter>(Storage s, float* q, int entry, int ef, ref TFilter filter, int exclude, SearchContext ctx)
        where TScorer : IScorer
        where TFilter : struct, INodeFilter
    {
        var cap = s.Capacity;
        ctx.Begin(cap, ef);
        ref var visited = ref MemoryMarshal.GetArrayDataReference(ctx.Visited);
        var tag = ctx.Tag;
        ref var chunks = ref MemoryMarshal.GetArrayDataReference(s.Chunks);
        var stride = (nint)_stride;
        var vecOff = _vectorOffset;
        var dim = Dimension;
        var m0 = _m0;
        ref var pending = ref MemoryMarshal.GetArrayDataReference(ctx.Pending);
        var prefetchEnd = Math.Min((int)stride, vecOff + PrefetchLines * 64);

        var es = StableScore<TScorer>(q, NodePtr(s, entry), vecOff, dim);
        Unsafe.Add(ref visited, entry) = tag;
        ctx.PushCandidate(es, entry);
        if (entry != exclude && Header(NodePtr(s, entry))[1] == 0 && filter.Allows(entry)) ctx.PushResult(es, entry);
        var lowerBound = ctx.ResultCount > 0 ? ctx.Results[0].Score : float.NegativeInfinity;

        while (ctx.CandidateCount > 0)
        {
            var c = ctx.PopCandidate();
            if (c.Score < lowerBound && ctx.ResultCount >= ef) break;
            var h = (int*)((byte*)Unsafe.Add(ref chunks, c.Id >> ChunkShift) + (c.Id & ChunkMask) * stride);
            var count = Volatile.Read(ref h[2]);
            if (count > m0) count = m0;
            var links = h + HeaderInts;
            // Two passes: first claim the unvisited neighbours (and ask for their vectors), then score
            // them, so the memory fetches of one list overlap instead of queueing behind each score.
            var fresh = 0;
            for (var j = 0; j < count; j++)
            {
                var n = links[j];
                if ((uint)n >= (uint)cap) continue;
                ref var v = ref Unsafe.Add(ref visited, n);
                if (v == tag) continue;
                v = tag;
                var p = (byte*)Unsafe.Add(ref chunks, n >> ChunkShift) + (n & ChunkMask) * stride;
                if (Sse.IsSupported)
                {
                    Sse.Prefetch0(p);
                    for (var o = vecOff; o < prefetchEnd; o += 64) Sse.Prefetch0(p + o);
                }
                Unsafe.Add(ref pending, fresh++) = n;
            }
            for (var j = 0; j < fresh; j++)
            {
                var n = Unsafe.Add(ref pending, j);
                var node = (byte*)Unsafe.Add(ref chunks, n >> ChunkShift) + (n & ChunkMask) * stride;
                var sc = StableScore<TScorer>(q, node, vecOff, dim);
                if (ctx.ResultCount < ef || sc > lowerBound)
                {
                    ctx.PushCandidate(sc, n);
                    if (((int*)node)[1] == 0 && n != exclude && filter.Allows(n))
                    {
                        ctx.PushResult(sc, n);
                        if (ctx.ResultCount > ef) ctx.PopResult();
                        lowerBound = ctx.Results[0].Score;
                    }
                }
            }
        }
    }

    public bool TryGetVector(int id, Span<float> destination)
    {
        var s = _store;
        if (!IsLive(s, id)) return false;
        var version = &Header(NodePtr(s, id))[VersionSlot];
        var vector = new ReadOnlySpan<float>(VectorPtr(s, id), Dimension);
        while (true)
        {
            var before = Volatile.Read(ref *version);
            vector.CopyTo(destination);
            if (ReadWasStable(version, before)) return true;
        }
    }

    /// <summary>Scores a node's vector as of one version (see <see cref="ReadWasStable"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float StableScore<TScorer>(float* q, byte* node, int vecOff, int dim)
        where TScorer : IScorer
    {
        var version = (int*)node + VersionSlot;
        while (true)
        {
            var before = Volatile.Read(ref *version);
            var score = TScorer.Score(q, (float*)(node + vecOff), dim);
            if (ReadWasStable(version, before)) return score;
        }
    }

    /// <summary>The reader's side of a node's vector seqlock, after reading the vector: true when no
    /// replace was writing it (even version <paramref name="before"/>) and none finished meanwhile
    /// (version unchanged); otherwise backs off once and the caller reads again. x86 keeps loads in
    /// order; other CPUs get a full barrier between the vector reads and the second version read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ReadWasStable(int* version, int before)
    {
        if (!X86Base.IsSupported) Interlocked.MemoryBarrier();
        if ((before & 1) == 0 && Volatile.Read(ref *version) == before) return true;
        Thread.SpinWait(1);
        return false;
    }
}
