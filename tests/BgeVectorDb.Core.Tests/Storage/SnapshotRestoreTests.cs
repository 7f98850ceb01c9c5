using BgeVectorDb.Common.Errors;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Search;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary>Restores: the catalog stays available while one runs, and a bad snapshot folder is refused cleanly.</summary>
public sealed class SnapshotRestoreTests : IDisposable
{
    private const int Dim = 8;
    private readonly TempDirectory _dir = new("bgevdb-restore", create: false);

    public void Dispose() => _dir.Dispose();

    private string Collections => Path.Combine(_dir.Path, "collections");

    private static async Task<Collection> Filled(CollectionCatalog catalog, string name, int count)
    {
        var c = catalog.Create(new CollectionSpec(name, "none", Dim));
        for (var i = 0; i < count; i += 50) await c.UpsertAsync(Enumerable.Range(i, Math.Min(50, count - i)).Select(j => DurableCatalogTests.Doc(j)).ToArray());
        return c;
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [Fact]
    public async Task Other_collections_are_searched_and_listed_while_a_restore_copies_and_recovers()
    {
        await using var catalog = DurableCatalogTests.OpenCatalog(_dir.Path);
        await Filled(catalog, "src", 200);
        var (folder, _) = await catalog.CreateSnapshotAsync("src");
        await Filled(catalog, "other", 60);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        catalog.RestoreHook = async () =>
        {
            entered.TrySetResult();
            await release.Task;
        };
        var restore = Task.Run(() => catalog.RestoreSnapshotAsync(folder, "copy"));
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The restore is parked between its copy and its recovery: the catalog still answers.
        var hits = await Task.Run(() => catalog.Get("other").SearchByVector(DurableCatalogTests.Doc(3).Vector!, new SearchOptions(5)).Hits)
            .WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("doc-3", hits[0].Id);
        Assert.Equal(["other", "src"], catalog.List().Select(c => c.Name));
        var create = catalog.CreateAsync(new CollectionSpec("copy", "none", Dim));   // the name is reserved: waits
        Assert.False(restore.IsCompleted);
        Assert.False(create.IsCompleted);

        release.SetResult();
        var restored = await restore.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(200, restored.Count);
        Assert.Equal(EngineErrorKind.AlreadyExists, (await Assert.ThrowsAsync<EngineException>(() => create)).Kind);
        Assert.Equal(["copy", "other", "src"], catalog.List().Select(c => c.Name));
    }

    [Theory]
    [InlineData("store/extra.bin")]
    [InlineData("checkpoints/manifest-0000000099")]
    public async Task A_file_the_descriptor_does_not_list_is_refused_by_name_and_nothing_is_left_behind(string extra)
    {
        await using var catalog = DurableCatalogTests.OpenCatalog(_dir.Path);
        await Filled(catalog, "src", 30);
        var (folder, _) = await catalog.CreateSnapshotAsync("src");
        var tampered = Path.Combine(_dir.Path, "tampered");
        CopyFolder(folder, tampered);
        File.WriteAllText(Path.Combine(tampered, extra), "not part of the snapshot");

        var ex = await Assert.ThrowsAsync<EngineException>(() => catalog.RestoreSnapshotAsync(tampered, "copy"));
        Assert.Equal(EngineErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal("path", ex.Field);
        Assert.Contains(extra, ex.Message, StringComparison.Ordinal);
        Assert.Equal(["src"], Directory.GetFileSystemEntries(Collections).Select(Path.GetFileName));
        Assert.Equal(30, (await catalog.CreateSnapshotAsync("src")).Descriptor.Documents);
        Assert.Equal(0, catalog.Create(new CollectionSpec("copy", "none", Dim)).Count);   // the name was released
    }

    [Fact]
    public async Task A_restore_that_fails_after_its_copy_removes_its_folders_and_releases_the_name()
    {
        await using var catalog = DurableCatalogTests.OpenCatalog(_dir.Path);
        await Filled(catalog, "src", 30);
        var (folder, _) = await catalog.CreateSnapshotAsync("src");
        catalog.RestoreHook = () => throw new IOException("disk went away");
        await Assert.ThrowsAsync<IOException>(() => catalog.RestoreSnapshotAsync(folder, "copy"));
        Assert.Equal(["src"], Directory.GetFileSystemEntries(Collections).Select(Path.GetFileName));
        catalog.RestoreHook = null;
        Assert.Equal(30, (await catalog.RestoreSnapshotAsync(folder, "copy")).Count);
    }
}
