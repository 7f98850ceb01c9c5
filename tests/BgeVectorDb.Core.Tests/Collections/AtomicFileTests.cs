using BgeVectorDb.Core.Storage;

namespace BgeVectorDb.Core.Tests.Collections;

public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDirectory _dir = new("bgevdb-atomic");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Round_trip_replaces_in_place_and_leaves_no_temp_file()
    {
        var path = Path.Combine(_dir.Path, "f.json");
        AtomicFile.Write(path, "MAGIC", 1, "{\"a\":1}");
        AtomicFile.Write(path, "MAGIC", 1, "{\"a\":2}");
        Assert.Equal("{\"a\":2}", AtomicFile.Read(path, "MAGIC", 1));
        Assert.Equal(["f.json"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Corruption_wrong_magic_and_version_are_reported_with_the_path()
    {
        var path = Path.Combine(_dir.Path, "f.json");
        AtomicFile.Write(path, "MAGIC", 1, "{\"a\":1}");
        Assert.Contains("version 1 is not supported", Assert.Throws<InvalidDataException>(() => AtomicFile.Read(path, "MAGIC", 2)).Message);
        Assert.Contains("not a OTHER file", Assert.Throws<InvalidDataException>(() => AtomicFile.Read(path, "OTHER", 1)).Message);
        var bytes = File.ReadAllBytes(path);
        bytes[^2] ^= 0x20;
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<InvalidDataException>(() => AtomicFile.Read(path, "MAGIC", 1));
        Assert.Contains("checksum mismatch", ex.Message);
        Assert.Contains(path, ex.Message);
    }
}
