using System.Diagnostics;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Index;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Search;

namespace BgeVectorDb.Core.Collections;

public sealed partial class Collection
{
    /// <summary>Text query: instruction + embed -> ANN top-N (filtered) -> cross-encoder rerank -> top-k.</summary>
    public async Task<SearchResult> SearchAsync(TextQuery query, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        if (string.IsNullOrWhiteSpace(query.Text)) EngineException.ThrowInvalid("query", "must not be empty");
        if (query.Text.Length > _limits.MaxQueryLength)
        {
            EngineException.ThrowInvalid("query", $"{query.Text.Length} characters exceeds the limit {EngineLimits.Cite("max_query_length", _limits.MaxQueryLength, nameof(EngineLimits.MaxQueryLength))}");
        }
        var (k, candidates) = ValidateOptions(query.Options);
        var embedder = Embedder ?? throw new EngineException(EngineErrorKind.FailedPrecondition,
            $"collection '{Name}' has no embedding model: search it by vector");
        var rerank = query.Rerank ?? Reranker is not null;
        if (rerank && Reranker is null)
        {
            throw new EngineException(EngineErrorKind.FailedPrecondition, $"rerank: collection '{Name}' has no reranker model", "rerank");
        }

        var t = Stopwatch.GetTimestamp();
        var vector = await embedder.EmbedQueryAsync(query.Text, query.QueryInstruction ?? Config.QueryInstruction, cancellationToken).ConfigureAwait(false);
        if (Config.Distance == DistanceKind.Cosine) VectorMath.NormalizeInPlace(vector);
        var embedUs = ElapsedUs(t);

        var (candidatesFound, annUs, fetchUs, indexUsed, ef) = Retrieve(vector, rerank ? candidates : k, query.Options, excludeId: null, withText: true);
        if (!rerank)
        {
            return Finish(candidatesFound, k, reranked: false, new StageTimings(embedUs, annUs, fetchUs, 0, ElapsedUs(started)), indexUsed, ef, query.Options.Fields)
                with { QueryVector = vector };
        }

        t = Stopwatch.GetTimestamp();
        var texts = new string[candidatesFound.Count];
        for (var i = 0; i < texts.Length; i++) texts[i] = candidatesFound[i].Text ?? "";
        var scores = texts.Length == 0 ? [] : await Reranker!.ScoreAsync(query.Text, texts, cancellationToken).ConfigureAwait(false);
        var rescored = new List<SearchHit>(candidatesFound.Count);
        for (var i = 0; i < candidatesFound.Count; i++)
        {
            rescored.Add(candidatesFound[i] with { Score = scores[i], RerankScore = scores[i] });
        }
        // Best rerank score first; ties keep ANN order.
        rescored.Sort(static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.AnnRank.CompareTo(b.AnnRank));
        var rerankUs = ElapsedUs(t);
        return Finish(rescored, k, reranked: true, new StageTimings(embedUs, annUs, fetchUs, rerankUs, ElapsedUs(started)), indexUsed, ef, query.Options.Fields)
            with { QueryVector = vector };
    }

    /// <summary>
    /// The vectors this collection uses for <paramref name="texts"/>: as queries (with <paramref name="instruction"/>,
    /// null = the collection's), exactly the vector a text search embeds, or as documents, exactly the vector an
    /// upsert stores (normalised for cosine collections in both cases).
    /// </summary>
    public async Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, bool asQueries, string? instruction, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var embedder = Embedder ?? throw new EngineException(EngineErrorKind.FailedPrecondition,
            $"collection '{Name}' has no embedding model: it stores vectors given by the client");
        EmbedInputValidator.Validate(texts, asQueries, instruction, _limits);
        var vectors = asQueries
            ? await Task.WhenAll(texts.Select(t => embedder.EmbedQueryAsync(t, instruction ?? Config.QueryInstruction, cancellationToken))).ConfigureAwait(false)
            : await embedder.EmbedDocumentsAsync(texts, cancellationToken).ConfigureAwait(false);
        if (Config.Distance == DistanceKind.Cosine)
        {
            foreach (var v in vectors) VectorMath.NormalizeInPlace(v);
        }
        return vectors;
    }

    /// <summary>ANN search by a raw vector (no rerank).</summary>
    public SearchResult SearchByVector(float[] vector, SearchOptions options)
    {
        var started = Stopwatch.GetTimestamp();
        DocumentValidator.ValidateVector(vector, Config, "vector");
        var (k, _) = ValidateOptions(options);
        var q = (float[])vector.Clone();
        if (Config.Distance == DistanceKind.Cosine) VectorMath.NormalizeInPlace(q);
        var (hits, annUs, fetchUs, indexUsed, ef) = Retrieve(q, k, options, excludeId: null, withText: false);
        return Finish(hits, k, reranked: false, new StageTimings(0, annUs, fetchUs, 0, ElapsedUs(started)), indexUsed, ef);
    }

    /// <summary>Nearest neighbours of a stored document (the document itself excluded).</summary>
    public SearchResult SearchByDocument(string id, SearchOptions options)
    {
        var started = Stopwatch.GetTimestamp();
        DocumentValidator.ValidateId(id, "id", _limits);
        var (k, _) = ValidateOptions(options);
        var q = new float[Config.Dimension];
        int internalId;
        _lock.EnterReadLock();
        try
        {
            // A document still being linked into the index (its write not yet complete) is not visible.
            if (!_idMap.TryGetValue(id, out internalId) || !_index.TryGetVector(internalId, q))
            {
                throw new EngineException(EngineErrorKind.NotFound, $"document '{id}' does not exist in collection '{Name}'");
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }
        var (hits, annUs, fetchUs, indexUsed, ef) = Retrieve(q, k, options, excludeId: internalId, withText: false);
        return Finish(hits, k, reranked: false, new StageTimings(0, annUs, fetchUs, 0, ElapsedUs(started)), indexUsed, ef);
    }

    private (int K, int Candidates) ValidateOptions(SearchOptions options)
    {
        if (options.K < 1 || options.K > _limits.MaxK)
        {
            EngineException.ThrowInvalid("options.k", $"must be between 1 and {EngineLimits.Cite("max_k", _limits.MaxK, nameof(EngineLimits.MaxK))}, got {options.K}");
        }
        if (options.Candidates < 0 || options.Candidates > _limits.MaxCandidates)
        {
            EngineException.ThrowInvalid("options.candidates", $"must be between 0 (default {SearchOptions.DefaultCandidates}) and {EngineLimits.Cite("max_candidates", _limits.MaxCandidates, nameof(EngineLimits.MaxCandidates))}, got {options.Candidates}");
        }
        // The contract (search.proto): candidates is 0 (default) or >= k.
        if (options.Candidates != 0 && options.Candidates < options.K)
        {
            EngineException.ThrowInvalid("options.candidates", $"must be 0 (default {SearchOptions.DefaultCandidates}) or at least k={options.K}, got {options.Candidates}");
        }
        if (options.Ef < 0 || options.Ef > _limits.MaxEf)
        {
            EngineException.ThrowInvalid("options.ef", $"must be between 0 (the collection's ef_search) and {EngineLimits.Cite("max_ef", _limits.MaxEf, nameof(EngineLimits.MaxEf))}, got {options.Ef}");
        }
        var candidates = options.Candidates == 0 ? Math.Max(SearchOptions.DefaultCandidates, options.K) : options.Candidates;
        return (options.K, candidates);
    }

    /// <summary>How much wider than the results the default beam is: with no ef in the query, a search for n
    /// results uses ef = max(ef_search, <see cref="DefaultEfFactor"/> x n), capped at max_ef.</summary>
    public const int DefaultEfFactor = 2;

    /// <summary>
    /// The HNSW beam for a search of <paramref name="n"/> results (k, or the candidates when reranking): the
    /// query's ef when it gives one, else the collection's ef_search widened to <see cref="DefaultEfFactor"/> x n
    /// and capped at max_ef (as Weaviate's dynamic ef scales with the limit between bounds); never below n.
    /// </summary>
    internal int SearchEf(int requested, int n) =>
        Math.Max(n, requested > 0 ? requested : Math.Min(Math.Max(Config.Hnsw.EfSearch, DefaultEfFactor * n), _limits.MaxEf));

    private (List<SearchHit> Hits, long AnnUs, long FetchUs, string IndexUsed, int Ef) Retrieve(float[] query, int n, SearchOptions options, int? excludeId, bool withText)
    {
        var ef = SearchEf(options.Ef, n);
        var fields = options.Fields ?? ReturnFields.Default;
        var found = Candidates(new CandidateRequest(query, n, options.Filter, excludeId, ef, WithVectors: fields.Vector));
        SampleRecall(query, n, options.Filter, excludeId, found.Hits);
        var hits = new List<SearchHit>(found.Hits.Length);
        foreach (var c in found.Hits)
        {
            hits.Add(new SearchHit(c.Id, c.Score, c.Score, null, c.Rank, withText || fields.Text ? c.Text : null,
                fields.Metadata ? c.Metadata : null, c.Vector));
        }
        return (hits, found.AnnUs, found.FetchUs, options.Filter is null ? _index.Kind : _index.Kind + "_filtered", ef);
    }

    private static SearchResult Finish(List<SearchHit> hits, int k, bool reranked, StageTimings timings, string indexUsed, int ef, ReturnFields? fields = null)
    {
        if (hits.Count > k) hits.RemoveRange(k, hits.Count - k);
        if (!(fields ?? ReturnFields.Default).Text)
        {
            // Texts were fetched for the reranker only.
            for (var i = 0; i < hits.Count; i++) hits[i] = hits[i] with { Text = null };
        }
        return new SearchResult(hits, timings, reranked, indexUsed, ef);
    }
}
