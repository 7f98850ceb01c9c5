using System.Diagnostics;
using BgeVectorDb.Core.Collections;
using BgeVectorDb.Core.Errors;
using Xunit.Abstractions;

namespace BgeVectorDb.Core.Tests.Storage;

/// <summary>A data folder on a small tmpfs that fills up: writes fail with RESOURCE_EXHAUSTED naming the disk,
/// resume once space is freed, and nothing acked is lost. Needs root (mount); without it the test says so and passes.</summary>
public sealed class DiskFullTests : IDisposable
{
    private const int Dim = 8;
    private readonly string _mount = Path.Combine(Path.GetTempPath(), "bgevdb-diskfull-" + Guid.NewGuid().ToString("N"));
    private readonly ITestOutputHelper _output;
    private bool _mounted;

    public DiskFullTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_mount);
    }

    public void Dispose()
    {
        if (_mounted) Run("umount", "-l", _mount);
        Directory.Delete(_mount, recursive: true);
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }

    private static Document[] Batch(int from, int count, string text) =>
        Enumerable.Range(from, count).Select(i => DurableCatalogTests.Doc(i) with { Text = $"{i} {text}" }).ToArray();

    [Fact]
    public async Task Writes_on_a_full_disk_fail_with_resource_exhausted_and_resume_when_space_returns_without_losing_acked_writes()
    {
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", _mount);
        if (code != 0)
        {
            _output.WriteLine($"SKIPPED: cannot mount a tmpfs ({output.Trim()}); run as root to exercise a full disk");
            return;
        }
        _mounted = true;
        var data = Path.Combine(_mount, "data");
        var text = new string('x', 4000);
        var acked = new HashSet<string>(StringComparer.Ordinal);
        await using (var catalog = DurableCatalogTests.OpenCatalog(data))
        {
            var c = catalog.Create(new CollectionSpec("full", "none", Dim));
            var filler = Path.Combine(_mount, "filler");
            var free = new DriveInfo(_mount).AvailableFreeSpace;
            File.WriteAllBytes(filler, new byte[Math.Max(0, free - (2 << 20))]);   // leave about 2 MiB
            EngineException? full = null;
            for (var b = 0; b < 400 && full is null; b++)
            {
                try
                {
                    var batch = Batch(b * 20, 20, text);
                    await c.UpsertAsync(batch);
                    foreach (var d in batch) acked.Add(d.Id);
                }
                catch (EngineException ex)
                {
                    full = ex;
                }
            }
            Assert.NotNull(full);
            Assert.Equal(EngineErrorKind.ResourceExhausted, full.Kind);
            Assert.Contains("disk", full.Message, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(data, full.Message, StringComparison.Ordinal);
            Assert.Equal(acked.Count, c.Count);

            File.Delete(filler);   // space returns: writes go on
            var after = Batch(100_000, 20, text);
            await c.UpsertAsync(after);
            foreach (var d in after) acked.Add(d.Id);
            Assert.Equal(acked.Count, c.Count);
        }
        await using var reopened = DurableCatalogTests.OpenCatalog(data);
        var r = reopened.Get("full");
        Assert.Empty(r.Get(acked.ToArray(), ReturnFields.Default).Missing);
        Assert.Equal(acked.Count, r.Count);
    }
}
