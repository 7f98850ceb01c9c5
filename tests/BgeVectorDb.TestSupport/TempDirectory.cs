namespace BgeVectorDb.TestSupport;

/// <summary>A fresh folder under the system temp folder ({prefix}-{guid}), deleted with its contents on dispose
/// (best effort: a leftover temp folder is harmless).</summary>
public sealed class TempDirectory : IDisposable
{
    /// <param name="prefix">Start of the folder name, e.g. "bgevdb-wal".</param>
    /// <param name="create">False: only the (unique) path is taken, for code that must create the folder itself.</param>
    public TempDirectory(string prefix = "bgevdb-test", bool create = true)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        if (create)
        {
            Directory.CreateDirectory(Path);
        }
    }

    public string Path { get; }

    /// <summary>{Path}/{name}.</summary>
    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path))
            {
                Directory.Delete(Path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
