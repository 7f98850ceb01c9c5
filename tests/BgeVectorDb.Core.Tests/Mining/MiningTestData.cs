using BgeVectorDb.Common.Beir;
using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Embedding;
using BgeVectorDb.Core.Models;
using BgeVectorDb.Core.Primitives;
using BgeVectorDb.Core.Reranking;
using Microsoft.Extensions.Logging.Abstractions;

namespace BgeVectorDb.Core.Tests.Mining;

/// <summary>SciFact data and collections for the mining tests.</summary>
internal static class MiningTestData
{
    public const int HashDimension = 128;

    public static string SciFact => SharedData.SciFact;

    public sealed record CorpusDoc(string Id, string Text);

    public static IReadOnlyList<CorpusDoc> Corpus => CorpusLazy.Value;

    private static readonly Lazy<IReadOnlyList<CorpusDoc>> CorpusLazy = new(() =>
        BeirReader.ReadCorpus(SciFact).Select(d => new CorpusDoc(d.Id, d.FullText)).ToArray());

    /// <summary>Test vectors: hashed bag of lower-cased words (signed feature hashing), so texts that share
    /// words are close and a query tends to find its positives. Not normalised (the collection does it).</summary>
    public static float[] HashVector(string text)
    {
        var v = new float[HashDimension];
        var word = new System.Text.StringBuilder();
        void Flush()
        {
            if (word.Length < 3) { word.Clear(); return; }
            uint h = 2166136261;
            foreach (var c in word.ToString()) h = unchecked((h ^ c) * 16777619);
            v[h % HashDimension] += (h & 0x80000000) != 0 ? 1f : -1f;
            word.Clear();
        }
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c)) word.Append(char.ToLowerInvariant(c));
            else Flush();
        }
        Flush();
        if (v.All(x => x == 0)) v[0] = 1;
        return v;
    }

    /// <summary>An in-memory catalog with the given models (null = none).</summary>
    public static CollectionCatalog Catalog(ITextEmbedder? embedder = null, IReranker? reranker = null) =>
        CollectionCatalog.Open(null, new FixedModelProvider(embedder, reranker), new EngineLimits(), NullLogger.Instance);

    /// <summary>Upserts documents in batches.</summary>
    public static async Task UpsertAsync(Collection collection, IEnumerable<Document> documents)
    {
        foreach (var chunk in documents.Chunk(500)) await collection.UpsertAsync(chunk);
    }
}
