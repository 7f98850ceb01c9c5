using System.Diagnostics;
using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Search;

namespace BgeVectorDb.Core.Collections;

/// <summary>A read of the collection's vectors: the best <paramref name="N"/> live documents for
/// <paramref name="Query"/> (already normalised for cosine) that pass <paramref name="Filter"/>, without
/// <paramref name="ExcludeId"/>. Through the index with beam <paramref name="Ef"/>, or by an exact scan of every
/// live vector (<paramref name="Exact"/>, taking the read lock a chunk of ids at a time so writers are never held
/// back for a whole scan). <paramref name="WithVectors"/> also reads each hit's stored vector.</summary>
internal readonly record struct CandidateRequest(float[] Query, int N, Filter? Filter = null, int? ExcludeId = null, int Ef = 0,
    bool Exact = false, bool WithVectors = false);

/// <summary>One candidate: the document as stored when it was read, its similarity, 1-based rank and (when asked
/// for) its vector.</summary>
internal readonly record struct Candidate(int InternalId, string Id, string Text, IReadOnlyDictionary<string, MetadataValue> Metadata,
    float Score, int Rank, float[]? Vector);

/// <summary>Candidates best first, with the time the index took and the time reading the documents took.</summary>
internal readonly record struct CandidateSet(Candidate[] Hits, long AnnUs, long FetchUs);

public sealed partial class Collection
{
    private const int ExactScanChunk = 4096;

    /// <summary>The one read path that search, mining and live recall share (see <see cref="CandidateRequest"/>).</summary>
    internal CandidateSet Candidates(in CandidateRequest request)
    {
        if (request.Exact) return ExactCandidates(request);
        var t = Stopwatch.GetTimestamp();
        _lock.EnterReadLock();
        try
        {
            var filter = request.Filter;
            var excludeId = request.ExcludeId;
            Func<int, bool>? predicate = null;
            if (filter is not null)
            {
                predicate = id => id != excludeId && _records[id] is { } r && filter.Matches(r.Metadata);
            }
            else if (excludeId is { } ex)
            {
                predicate = id => id != ex;
            }
            var found = _index.Search(request.Query, request.N, predicate, request.Ef);
            var annUs = ElapsedUs(t);
            t = Stopwatch.GetTimestamp();
            var hits = ToCandidates(found, request.WithVectors);
            return new CandidateSet(hits, annUs, ElapsedUs(t));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Maps index hits to their documents (caller holds the read lock).</summary>
    private Candidate[] ToCandidates(ScoredId[] found, bool withVectors)
    {
        var hits = new Candidate[found.Length];
        for (var i = 0; i < found.Length; i++)
        {
            var r = _records[found[i].Id]!;
            hits[i] = new Candidate(found[i].Id, r.Id, r.Text, r.Metadata, found[i].Score, i + 1, withVectors ? ReadVector(found[i].Id) : null);
        }
        return hits;
    }

    private CandidateSet ExactCandidates(in CandidateRequest request)
    {
        var t = Stopwatch.GetTimestamp();
        var top = new TopK(request.N);
        var vector = new float[Config.Dimension];
        var next = 0;
        while (true)
        {
            _lock.EnterReadLock();
            try
            {
                var end = Math.Min(_records.Count, next + ExactScanChunk);
                if (next >= end) break;
                for (var id = next; id < end; id++)
                {
                    if (id == request.ExcludeId || _records[id] is not { } r) continue;
                    if (request.Filter is { } f && !f.Matches(r.Metadata)) continue;
                    if (!_index.TryGetVector(id, vector)) continue;
                    top.Offer(id, VectorMath.Score(Config.Distance, request.Query, vector));
                }
                next = end;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
        var annUs = ElapsedUs(t);
        t = Stopwatch.GetTimestamp();
        var found = top.ToSortedArray();
        _lock.EnterReadLock();
        try
        {
            // A document deleted since the chunk that scored it was scanned is left out.
            found = Array.FindAll(found, s => s.Id < _records.Count && _records[s.Id] is not null);
            return new CandidateSet(ToCandidates(found, request.WithVectors), annUs, ElapsedUs(t));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }
}
