using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Collections;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary>Requests that reach the engine while it shuts down are told to retry (Unavailable), not that their
/// collection does not exist (NotFound) or that the engine failed (Internal).</summary>
public sealed class ShutdownErrorTests : IDisposable
{
    private readonly TempDirectory _dir = new("bgevdb-shutdown", create: false);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Lookups_and_writes_after_the_catalog_closed_are_unavailable()
    {
        var catalog = DurableCatalogTests.OpenCatalog(_dir.Path);
        var held = catalog.Create(new CollectionSpec("a", "none", 8));
        await held.UpsertAsync([DurableCatalogTests.Doc(1)]);
        await catalog.DisposeAsync();

        var get = Assert.Throws<EngineException>(() => catalog.Get("a"));
        Assert.Equal(EngineErrorKind.Unavailable, get.Kind);
        Assert.Contains("shutting down", get.Message, StringComparison.Ordinal);
        var create = Assert.Throws<EngineException>(() => catalog.Create(new CollectionSpec("b", "none", 8)));
        Assert.Equal(EngineErrorKind.Unavailable, create.Kind);
        var write = await Assert.ThrowsAsync<EngineException>(() => held.UpsertAsync([DurableCatalogTests.Doc(2)]));
        Assert.Equal(EngineErrorKind.Unavailable, write.Kind);
        Assert.Contains("shutting down", write.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_write_to_a_deleted_collection_is_still_not_found()
    {
        await using var catalog = DurableCatalogTests.OpenCatalog(_dir.Path);
        var held = catalog.Create(new CollectionSpec("a", "none", 8));
        await catalog.DeleteAsync("a");
        var write = await Assert.ThrowsAsync<EngineException>(() => held.UpsertAsync([DurableCatalogTests.Doc(2)]));
        Assert.Equal(EngineErrorKind.NotFound, write.Kind);
    }
}
