using BgeVectorDb.Core.Primitives;

namespace BgeVectorDb.Core.Index;

/// <summary>Brute-force index: scores every live point. The ground truth for recall and the plan for
/// very selective filters. Vectors live in one contiguous arena with a fixed stride.</summary>
public sealed class ExactIndex : IVectorIndex
{
    private readonly DistanceKind _distance;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private float[] _arena;
    private bool[] _live;
    private int _capacity;
    private int _count;

    public ExactIndex(int dimension, DistanceKind distance, int initialCapacity = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Dimension = dimension;
        _distance = distance;
        _capacity = Math.Max(16, initialCapacity);
        _arena = new float[(long)_capacity * dimension];
        _live = new bool[_capacity];
    }

    public string Kind => "exact";

    public int Dimension { get; }

    public int Count => Volatile.Read(ref _count);

    public long MemoryBytes => (long)_arena.Length * sizeof(float) + _live.Length;

    public void Upsert(int id, ReadOnlySpan<float> vector)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        if (vector.Length != Dimension) throw new ArgumentException($"expected {Dimension} dimensions, got {vector.Length}", nameof(vector));
        _lock.EnterWriteLock();
        try
        {
            EnsureCapacity(id + 1);
            vector.CopyTo(_arena.AsSpan(id * Dimension, Dimension));
            if (!_live[id])
            {
                _live[id] = true;
                _count++;
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public void Delete(int id)
    {
        _lock.EnterWriteLock();
        try
        {
            if (id >= 0 && id < _capacity && _live[id])
            {
                _live[id] = false;
                _count--;
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    public bool TryGetVector(int id, Span<float> destination)
    {
        _lock.EnterReadLock();
        try
        {
            if (id < 0 || id >= _capacity || !_live[id]) return false;
            _arena.AsSpan(id * Dimension, Dimension).CopyTo(destination);
            return true;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public ScoredId[] Search(ReadOnlySpan<float> query, int k, Func<int, bool>? filter = null, int ef = 0)
    {
        if (query.Length != Dimension) throw new ArgumentException($"expected {Dimension} dimensions, got {query.Length}", nameof(query));
        if (k <= 0) return [];
        var top = new TopK(k);
        _lock.EnterReadLock();
        try
        {
            var arena = _arena.AsSpan();
            for (var id = 0; id < _capacity; id++)
            {
                if (!_live[id] || (filter is not null && !filter(id))) continue;
                top.Offer(id, VectorMath.Score(_distance, query, arena.Slice(id * Dimension, Dimension)));
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        return top.ToSortedArray();
    }

    public IndexState ExportState()
    {
        _lock.EnterReadLock();
        try
        {
            var bound = _capacity;
            while (bound > 0 && !_live[bound - 1]) bound--;
            return new IndexState(Kind, -1, 0, bound);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public bool TryExportNode(int id, out IndexNode node)
    {
        var vector = new float[Dimension];
        if (!TryGetVector(id, vector))
        {
            node = null!;
            return false;
        }
        node = new IndexNode(id, false, vector, [[]]);
        return true;
    }

    public void ImportNode(IndexNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!node.Deleted) Upsert(node.Id, node.Vector);
    }

    public void CompleteImport(IndexState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Kind != Kind) throw new InvalidDataException($"index state is for '{state.Kind}', not '{Kind}'");
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _capacity) return;
        var capacity = _capacity;
        while (capacity < needed) capacity *= 2;
        Array.Resize(ref _arena, capacity * Dimension);
        Array.Resize(ref _live, capacity);
        _capacity = capacity;
    }
}
