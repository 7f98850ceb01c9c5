namespace BgeVectorDb.Core.Index;

/// <summary>Keeps the k best (score, id) pairs with a min-heap; ties prefer the smaller id.</summary>
internal sealed class TopK
{
    private readonly PriorityQueue<int, (float Score, int NegId)> _heap;
    private readonly int _k;

    public TopK(int k)
    {
        _k = k;
        _heap = new PriorityQueue<int, (float, int)>(Math.Min(k, 4096) + 1, Comparer.Instance);
    }

    public void Offer(int id, float score)
    {
        if (float.IsNaN(score)) return;
        if (_heap.Count < _k)
        {
            _heap.Enqueue(id, (score, -id));
            return;
        }
        _heap.TryPeek(out _, out var worst);
        if (Comparer.Instance.Compare((score, -id), worst) > 0)
        {
            _heap.DequeueEnqueue(id, (score, -id));
        }
    }

    public ScoredId[] ToSortedArray()
    {
        var result = new ScoredId[_heap.Count];
        for (var i = result.Length - 1; i >= 0; i--)
        {
            _heap.TryDequeue(out var id, out var p);
            result[i] = new ScoredId(id, p.Score);
        }
        return result;
    }

    private sealed class Comparer : IComparer<(float Score, int NegId)>
    {
        public static readonly Comparer Instance = new();

        public int Compare((float Score, int NegId) x, (float Score, int NegId) y)
        {
            var c = x.Score.CompareTo(y.Score);
            return c != 0 ? c : x.NegId.CompareTo(y.NegId);
        }
    }
}
