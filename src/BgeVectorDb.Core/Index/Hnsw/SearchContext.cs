using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BgeVectorDb.Core.Index.Hnsw;

/// <summary>A (score, id) pair; higher score is better.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Pair(float score, int id)
{
    public float Score = score;
    public int Id = id;
}

/// <summary>Per-thread scratch of a graph search: the visited set (generation-tagged, cleared only
/// when the tag wraps), the candidate max-heap and the result min-heap. Reused across queries so the
/// hot path allocates nothing.</summary>
internal sealed class SearchContext
{
    [ThreadStatic]
    private static SearchContext? t_cached;

    public ushort[] Visited = [];
    public ushort Tag;
    public Pair[] Candidates = new Pair[256];
    public int CandidateCount;
    public Pair[] Results = new Pair[256];
    public int ResultCount;
    public Pair[] Scratch = new Pair[128];
    public int[] Selected = new int[128];
    public int[] LinkCopy = new int[128];

    /// <summary>Unvisited neighbours of the node being expanded (level-0 lists hold at most 2M = 512).</summary>
    public int[] Pending = new int[512];

    /// <summary>Takes this thread's context (or a fresh one when it is already in use).</summary>
    public static SearchContext Rent()
    {
        var c = t_cached;
        if (c is null) return new SearchContext();
        t_cached = null;
        return c;
    }

    public static void Return(SearchContext context) => t_cached = context;

    /// <summary>Starts a new search over ids below <paramref name="capacity"/>.</summary>
    public void Begin(int capacity, int ef)
    {
        if (Visited.Length < capacity)
        {
            Visited = new ushort[capacity];
            Tag = 0;
        }
        Tag++;
        if (Tag == 0)
        {
            Array.Clear(Visited);
            Tag = 1;
        }
        CandidateCount = 0;
        ResultCount = 0;
        if (Results.Length < ef + 2) Results = new Pair[ef + 2];
    }

    public void EnsureScratch(int n)
    {
        if (Scratch.Length < n) Scratch = new Pair[n * 2];
        if (Selected.Length < n) Selected = new int[n * 2];
        if (LinkCopy.Length < n) LinkCopy = new int[n * 2];
    }

    /// <summary>Pushes onto the candidate max-heap (best score on top).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PushCandidate(float score, int id)
    {
        if (CandidateCount == Candidates.Length) Array.Resize(ref Candidates, Candidates.Length * 2);
        ref var h = ref MemoryMarshal.GetArrayDataReference(Candidates);
        var i = CandidateCount++;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            var p = Unsafe.Add(ref h, parent);
            if (p.Score >= score) break;
            Unsafe.Add(ref h, i) = p;
            i = parent;
        }
        Unsafe.Add(ref h, i) = new Pair(score, id);
    }

    /// <summary>Removes and returns the best candidate.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Pair PopCandidate()
    {
        ref var h = ref MemoryMarshal.GetArrayDataReference(Candidates);
        var top = h;
        var n = --CandidateCount;
        if (n > 0)
        {
            var last = Unsafe.Add(ref h, n);
            var i = 0;
            while (true)
            {
                var child = 2 * i + 1;
                if (child >= n) break;
                if (child + 1 < n && Unsafe.Add(ref h, child + 1).Score > Unsafe.Add(ref h, child).Score) child++;
                if (Unsafe.Add(ref h, child).Score <= last.Score) break;
                Unsafe.Add(ref h, i) = Unsafe.Add(ref h, child);
                i = child;
            }
            Unsafe.Add(ref h, i) = last;
        }
        return top;
    }

    /// <summary>Pushes onto the result min-heap (worst score on top).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PushResult(float score, int id)
    {
        if (ResultCount == Results.Length) Array.Resize(ref Results, Results.Length * 2);
        ref var h = ref MemoryMarshal.GetArrayDataReference(Results);
        var i = ResultCount++;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            var p = Unsafe.Add(ref h, parent);
            if (p.Score <= score) break;
            Unsafe.Add(ref h, i) = p;
            i = parent;
        }
        Unsafe.Add(ref h, i) = new Pair(score, id);
    }

    /// <summary>Removes the worst result.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PopResult()
    {
        ref var h = ref MemoryMarshal.GetArrayDataReference(Results);
        var n = --ResultCount;
        if (n == 0) return;
        var last = Unsafe.Add(ref h, n);
        var i = 0;
        while (true)
        {
            var child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && Unsafe.Add(ref h, child + 1).Score < Unsafe.Add(ref h, child).Score) child++;
            if (Unsafe.Add(ref h, child).Score >= last.Score) break;
            Unsafe.Add(ref h, i) = Unsafe.Add(ref h, child);
            i = child;
        }
        Unsafe.Add(ref h, i) = last;
    }

    /// <summary>Results sorted best first (ties by id) into <see cref="Scratch"/>; returns the count.</summary>
    public int SortResults()
    {
        EnsureScratch(ResultCount);
        Array.Copy(Results, Scratch, ResultCount);
        Scratch.AsSpan(0, ResultCount).Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id));
        return ResultCount;
    }
}

/// <summary>A predicate over internal ids, specialised at compile time (no call at all when unfiltered).</summary>
internal interface INodeFilter
{
    bool Allows(int id);
}

internal readonly struct NoFilter : INodeFilter
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Allows(int id) => true;
}

internal readonly struct FuncFilter(Func<int, bool> predicate) : INodeFilter
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Allows(int id) => predicate(id);
}
